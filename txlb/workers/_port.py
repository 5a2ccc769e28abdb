"""
Listening sockets several processes share: TCP with C{SO_REUSEPORT}, so
that the kernel spreads new connections over every worker's own socket.
"""

import socket

from twisted.internet import defer, tcp
from twisted.internet.endpoints import SSL4ServerEndpoint, TCP4ServerEndpoint, TCP6ServerEndpoint
from twisted.protocols.tls import TLSMemoryBIOFactory
from twisted.internet.error import CannotListenError

from txlb.errors import ConfigError


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
    if not isinstance(endpoint, (TCP4ServerEndpoint, TCP6ServerEndpoint, SSL4ServerEndpoint)):
        raise ConfigError(
            f"--workers shares TCP and ssl: listeners only; service {listener.serviceName} "
            f"listens on {listener.description}"
        )
    return endpoint._interface, endpoint._port, endpoint._backlog


def sharedFactory(listener):
    """
    The factory a shared port of C{listener} serves: the listener's own, in
    TLS for an C{ssl:} endpoint (whose context factory it takes), since a
    shared port is plain TCP.
    """
    endpoint = listener.endpoint
    if isinstance(endpoint, SSL4ServerEndpoint):
        factory = TLSMemoryBIOFactory(endpoint._sslContextFactory, False, listener.factory)
        factory.noisy = False
        return factory
    return listener.factory


def listenShared(reactor, factory, interface, port, backlog):
    """
    Listen on C{interface}:C{port} with C{SO_REUSEPORT}; a Deferred that
    fires with the L{SharedPort}, or fails with L{CannotListenError}.
    """
    shared = SharedPort(port, factory, backlog, interface, reactor)
    try:
        shared.startListening()
    except CannotListenError as e:
        return defer.fail(e)
    return defer.succeed(shared)
