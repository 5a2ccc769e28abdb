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


def listenShared(reactor, factory, interface, port, backlog):
    """
    Listen on C{interface}:C{port} with C{SO_REUSEPORT}; a Deferred that
    fires with the L{SharedPort}, or fails with L{CannotListenError}.
    """
    if getattr(factory, "lean", None) is not None:
        return listenLean(reactor, factory, interface, port, backlog, reusePort=True)
    shared = SharedPort(port, factory, backlog, interface, reactor)
    try:
        shared.startListening()
    except CannotListenError as e:
        return defer.fail(e)
    return defer.succeed(shared)
