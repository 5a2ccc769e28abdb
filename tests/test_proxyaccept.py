"""
Unit tests for L{txlb.proxyaccept}: reading the PROXY header on a
C{haproxy:} listener before the relay is connected, on memory transports
and a fake clock.
"""

from twisted.internet.address import IPv4Address
from twisted.internet.interfaces import IHalfCloseableProtocol
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.trial.unittest import SynchronousTestCase

from txlb import proxyheader, terminations
from txlb.builder import Builder
from txlb.config import Group, Host, Service
from txlb.proxyaccept import LATE, MALFORMED

PROXY = IPv4Address("TCP", "10.9.9.9", 40000)
LISTENER = IPv4Address("TCP", "10.0.0.1", 8080)
CLIENT = IPv4Address("TCP", "192.0.2.7", 51000)


class ProxyHeaderCase(SynchronousTestCase):
    def setUp(self):
        self.reactor = MemoryReactorClock()
        self.service = self.makeService()
        self.factory = self.service.listeners[0].factory

    def makeService(self, **options):
        spec = Service(
            "web",
            listen=["haproxy:tcp:0"],
            groups=[Group("g", hosts=[Host("a", "127.0.0.1:8000", proxy="v1")])],
            proxyHeaderTimeout=2.0,
            **options,
        )
        return Builder(self.reactor).service(spec)

    def accept(self):
        protocol = self.factory.buildProtocol(PROXY)
        transport = StringTransport(hostAddress=LISTENER, peerAddress=PROXY)
        protocol.makeConnection(transport)
        return protocol, transport

    def attempts(self):
        return len(self.reactor.tcpClients)


class AcceptTests(ProxyHeaderCase):
    def test_relayWaitsForTheHeader(self):
        """
        Nothing happens until the header is in: no backend is tried, no
        client is counted as accepted; the connection counts toward
        maxconn meanwhile.
        """
        protocol, transport = self.accept()
        protocol.dataReceived(b"PROXY TCP4 192.0.2.7 10")
        self.assertEqual((self.attempts(), self.service.accepted), (0, 0))
        self.assertEqual(self.service.cap.open, 1)
        protocol.dataReceived(b".0.0.1 51000 8080\r\nhello")
        self.assertEqual((self.attempts(), self.service.accepted), (1, 1))
        self.assertEqual(self.service.cap.open, 1)
        client = protocol.wrappedProtocol
        self.assertEqual(client.transport.getPeer(), CLIENT)
        # What the scheduler is given to pick (hash, maglev, sticky).
        self.assertEqual(client.failover.client, CLIENT)
        self.assertEqual(client.pending, [b"hello"])

    def test_v2AndSplitSignature(self):
        """
        A version 2 header arriving a few bytes at a time is read.
        """
        protocol, _ = self.accept()
        header = proxyheader.v2(CLIENT, LISTENER)
        for i in range(len(header)):
            protocol.dataReceived(header[i : i + 1])
        self.assertEqual(protocol.getPeer(), CLIENT)
        self.assertEqual(self.attempts(), 1)

    def test_realClientReachesTheBackendHeader(self):
        """
        The header sent to a C{proxy=} host carries the client the
        accepted header named, not the proxy in front.
        """
        protocol, _ = self.accept()
        protocol.dataReceived(proxyheader.v1(CLIENT, LISTENER) + b"ping")
        factory = self.reactor.tcpClients[-1][2]
        backend = factory.buildProtocol(None)
        transport = StringTransport()
        backend.makeConnection(transport)
        self.assertEqual(
            transport.value(), b"PROXY TCP4 192.0.2.7 10.0.0.1 51000 8080\r\nping"
        )

    def test_halfClose(self):
        """
        The wrapper is half-closeable and passes a client's half-close on
        to the relay once connected.
        """
        protocol, _ = self.accept()
        self.assertTrue(IHalfCloseableProtocol.providedBy(protocol))
        protocol.dataReceived(proxyheader.v1(CLIENT, LISTENER))
        protocol.readConnectionLost()
        self.assertTrue(protocol.wrappedProtocol.readClosed)


class RefuseTests(ProxyHeaderCase):
    def test_missing(self):
        """
        Bytes that are no PROXY header close the connection at once,
        counted under C{proxy-header}; no backend is tried.
        """
        protocol, transport = self.accept()
        protocol.dataReceived(b"GET / HTTP/1.1\r\n")
        self.assertTrue(transport.disconnecting)
        self.assertEqual(protocol.termination, terminations.PROXY_HEADER)
        self.assertEqual(self.service.refusals, {MALFORMED: 1})
        self.assertEqual((self.attempts(), self.service.accepted), (0, 0))

    def test_malformed(self):
        """
        A header that starts right but is wrong is refused too.
        """
        protocol, transport = self.accept()
        protocol.dataReceived(b"PROXY TCP9 1 2 3 4\r\n")
        self.assertTrue(transport.disconnecting)
        self.assertEqual(self.service.refusals, {MALFORMED: 1})

    def test_tooLong(self):
        """
        A version 1 line longer than the specification's 107 bytes is
        refused without waiting for its end.
        """
        protocol, transport = self.accept()
        protocol.dataReceived(b"PROXY " + b"x" * 200)
        self.assertTrue(transport.disconnecting)

    def test_late(self):
        """
        No complete header within C{proxyHeaderTimeout}: closed, counted
        under C{proxy-header-timeout}, and no longer counted in maxconn.
        """
        protocol, transport = self.accept()
        protocol.dataReceived(b"PROXY TCP4 ")
        self.reactor.advance(1.9)
        self.assertFalse(transport.disconnecting)
        self.reactor.advance(0.1)
        self.assertTrue(transport.disconnecting)
        self.assertEqual(self.service.refusals, {LATE: 1})
        self.assertEqual(self.service.cap.open, 0)
        protocol.connectionLost(None)
        self.assertEqual(self.service.cap.open, 0)

    def test_closedBeforeHeader(self):
        """
        A connection closed before sending anything (a health check of
        the proxy in front) is not counted, and its deadline is cancelled.
        """
        protocol, _ = self.accept()
        protocol.connectionLost(None)
        self.assertEqual(self.service.refusals, {})
        self.assertEqual(self.reactor.getDelayedCalls(), [])
        self.assertEqual(self.service.cap.open, 0)

    def test_accessListSeesTheRealClient(self):
        """
        Access control checks the address the header named.
        """
        self.service = self.makeService(deny=["192.0.2.0/24"])
        self.factory = self.service.listeners[0].factory
        protocol, transport = self.accept()
        protocol.dataReceived(proxyheader.v2(CLIENT, LISTENER))
        self.assertTrue(transport.disconnecting)
        self.assertEqual(self.service.refusals, {"denied": 1})
        self.assertEqual(protocol.wrappedProtocol.termination, terminations.REFUSED)
        self.assertEqual(self.attempts(), 0)
