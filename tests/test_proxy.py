"""
Unit tests for the proxy service (L{txlb.proxy.ProxyService}) on a memory
reactor: stopping it drains the open connections up to its drain timeout.
"""

from twisted.internet.address import IPv4Address
from twisted.internet.error import ConnectionDone
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from txlb.builder import Builder
from txlb.config import Group, Host, Service

PEER = IPv4Address("TCP", "127.0.0.1", 40000)


class HalfCloseableTransport(StringTransport):
    """
    A L{StringTransport} that can shut its write side.
    """

    writeShut = False

    def loseWriteConnection(self):
        self.writeShut = True


def _proxy(drainTimeout=10.0):
    """
    A memory reactor and a proxy service listening there, over one host.
    """
    reactor = MemoryReactorClock()
    spec = Service(
        "s",
        listen=["tcp:0:interface=127.0.0.1"],
        groups=[Group("g", hosts=[Host("127.0.0.1:1", "127.0.0.1:1")])],
        drainTimeout=drainTimeout,
    )
    return reactor, Builder(reactor).service(spec)


def _client(proxy):
    """
    A client accepted by C{proxy}.
    """
    client = proxy.factory.buildProtocol(PEER)
    client.makeConnection(HalfCloseableTransport(peerAddress=PEER))
    return client


def _connectBackend(reactor):
    """
    Let the newest connection attempt to a host succeed; return its protocol.
    """
    factory = reactor.tcpClients[-1][2]
    backend = factory.buildProtocol(None)
    backend.makeConnection(HalfCloseableTransport())
    return backend


class DrainTests(SynchronousTestCase):
    """
    Draining open connections on stop.
    """

    def test_waitsForOpenConnections(self):
        """
        Stopping a service stops its listeners at once but its Deferred
        fires only once the open connections have ended.
        """
        reactor, proxy = _proxy()
        proxy.startService()
        client = _client(proxy)
        stopped = proxy.stopService()
        self.assertNoResult(stopped)
        self.assertEqual(proxy.listeners[0].port, None)
        client.connectionLost(Failure(ConnectionDone()))
        self.successResultOf(stopped)
        self.assertEqual(proxy.clients, set())

    def test_abortsAtTimeout(self):
        """
        What is still open when the drain timeout passes is aborted, and the
        stop completes.
        """
        reactor, proxy = _proxy(drainTimeout=2.5)
        proxy.startService()
        client = _client(proxy)
        backend = _connectBackend(reactor)
        stopped = proxy.stopService()
        reactor.advance(2.4)
        self.assertNoResult(stopped)
        reactor.advance(0.1)
        self.successResultOf(stopped)
        self.assertTrue(client.transport.disconnecting)
        self.assertTrue(backend.transport.disconnecting)

    def test_nothingOpen(self):
        """
        With no connection open the stop completes at once.
        """
        reactor, proxy = _proxy()
        proxy.startService()
        self.successResultOf(proxy.stopService())
