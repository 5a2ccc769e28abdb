"""
Listening sockets several processes share: TCP with C{SO_REUSEPORT}, so
that the kernel spreads new connections over every worker's own socket.
"""

import socket

from twisted.internet import defer, tcp
from twisted.internet.endpoints import TCP4ServerEndpoint, TCP6ServerEndpoint
from twisted.internet.error import CannotListenError
from twisted.protocols.tls import TLSMemoryBIOFactory

from txlb._twisted import sslContextFactory, tcpEndpointAddress
from txlb.errors import ConfigError
from txlb.lean import listen as listenLean


class SharedPort(tcp.Port):
    """
    A TCP listening port whose socket has C{SO_REUSEPORT} set: every
    process that binds the same address this way gets a share of the new
    connections.
    """

    def createInternetSocket(self):
        skt = tcp.Port.createInternetSocket(self)
        skt.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        return skt


class FirstSharedPort(tcp.Port):
    """
    Worker 0's listening port: bound as an ordinary socket, so that the
    bind fails while any other socket holds the address (another txlb's
    workers included, whose sockets all have C{SO_REUSEPORT}), then given
    C{SO_REUSEPORT} once listening, so that this set's other workers can
    join it. The kernel only lets sockets of the same user join a group,
    and only ones that set C{SO_REUSEPORT} before binding: a second txlb
    (whose worker 0 binds the same way) is refused, and only a started
    worker 0's own workers bind next to it.
    """

    def startListening(self):
        tcp.Port.startListening(self)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)


def tcpAddress(listener):
    """
    C{(interface, port, backlog)} of a listener's TCP endpoint.

    @raise ConfigError: when the endpoint is not TCP or TLS over TCP (a
        UNIX socket, ...), which the workers cannot share.
    """
    endpoint = listener.endpoint
    address = None
    if isinstance(endpoint, (TCP4ServerEndpoint, TCP6ServerEndpoint)) or (
        sslContextFactory(endpoint) is not None
    ):
        address = tcpEndpointAddress(endpoint)
    if address is None:
        raise ConfigError(
            f"--workers shares TCP and ssl: listeners only; service {listener.serviceName} "
            f"listens on {listener.description}"
        )
    return address


def sharedFactory(listener):
    """
    The factory a shared port of C{listener} serves: the listener's own, in
    TLS for an C{ssl:} endpoint (whose context factory it takes), since a
    shared port is plain TCP.
    """
    contextFactory = sslContextFactory(listener.endpoint)
    if contextFactory is not None:
        factory = TLSMemoryBIOFactory(contextFactory, False, listener.factory)
        factory.noisy = False
        return factory
    return listener.factory


def _shareAfterBind(port):
    # Worker 0's lean port, bound alone: now this set's workers may join.
    port.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    return port


def listenShared(reactor, factory, interface, port, backlog, first=False):
    """
    Listen on C{interface}:C{port} with C{SO_REUSEPORT}; a Deferred that
    fires with the L{SharedPort}, or fails with L{CannotListenError}.

    @param first: True in worker 0: bind a L{FirstSharedPort}, refused
        while anything else holds the address.
    """
    if getattr(factory, "lean", None) is not None:
        listening = listenLean(reactor, factory, interface, port, backlog, reusePort=not first)
        if first:
            listening.addCallback(_shareAfterBind)
        return listening
    shared = (FirstSharedPort if first else SharedPort)(port, factory, backlog, interface, reactor)
    try:
        shared.startListening()
    except CannotListenError as e:
        return defer.fail(e)
    return defer.succeed(shared)
