"""
Unit tests for L{txlb.proxyaccept}: reading the PROXY header on a
C{haproxy:} listener before the relay is connected, on memory transports
and a fake clock.
"""

from hypothesis import given
from hypothesis import strategies as st
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

    def test_unknownV1(self):
        """
        The bare C{PROXY UNKNOWN} line (which Twisted's own parser refuses)
        is taken: the connection keeps its own address.
        """
        protocol, transport = self.accept()
        protocol.dataReceived(b"PROXY UNKNOWN\r\nhi")
        self.assertFalse(transport.disconnecting)
        self.assertEqual(protocol.wrappedProtocol.transport.getPeer(), PROXY)
        self.assertEqual(protocol.wrappedProtocol.pending, [b"hi"])

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

    def test_whatTwistedLetsThrough(self):
        """
        Headers Twisted's version 1 parser accepts or raises on (a host
        that is no address, a port out of range or not a number, bytes
        that are not text, an IPv4 address in a TCP6 line) are refused as
        malformed, with no traceback.
        """
        for header in [
            b"PROXY TCP4 junk 10.0.0.1 1 2\r\n",
            b"PROXY TCP4 192.0.2.7 10.0.0.1 1 99999\r\n",
            b"PROXY TCP4 192.0.2.7 10.0.0.1 x 2\r\n",
            b"PROXY TCP4 \xff 10.0.0.1 1 2\r\n",
            b"PROXY TCP6 192.0.2.7 10.0.0.1 1 2\r\n",
        ]:
            protocol, transport = self.accept()
            protocol.dataReceived(header)
            self.assertTrue(transport.disconnecting, header)
        self.assertEqual(self.service.refusals, {MALFORMED: 5})
        self.assertEqual(self.service.accepted, 0)

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


class SplitTests(ProxyHeaderCase):
    @given(st.sampled_from(["v1", "v2"]), st.lists(st.integers(min_value=1, max_value=40), max_size=8), st.binary(max_size=50))
    def test_anySplit(self, version, cuts, payload):
        """
        However the header and what follows are split into reads, the
        relay gets the real client and exactly the bytes after the header.
        """
        self.reactor = MemoryReactorClock()
        self.service = self.makeService()
        self.factory = self.service.listeners[0].factory
        protocol, transport = self.accept()
        data = proxyheader.encode(version, CLIENT, LISTENER) + payload
        position = 0
        for cut in cuts + [len(data)]:
            chunk = data[position : position + cut]
            position += len(chunk)
            if chunk:
                protocol.dataReceived(chunk)
        self.assertFalse(transport.disconnecting)
        client = protocol.wrappedProtocol
        self.assertEqual(client.transport.getPeer(), CLIENT)
        self.assertEqual(b"".join(client.pending), payload)

    @given(
        st.one_of(
            st.binary(min_size=1, max_size=200),
            st.lists(
                st.one_of(
                    st.sampled_from([b"TCP4", b"TCP6", b"UNKNOWN", b"1.2.3.4", b"::1", b"80", b"-1", b""]),
                    st.binary(max_size=8),
                ),
                max_size=7,
            ).map(lambda parts: b"PROXY " + b" ".join(parts) + b"\r\n"),
        )
    )
    def test_garbageNeverReachesTheRelay(self, data):
        """
        Bytes that are not a valid header are refused or waited on (then
        refused by the deadline); they never reach the relay, and nothing
        raises.
        """
        self.reactor = MemoryReactorClock()
        self.service = self.makeService()
        self.factory = self.service.listeners[0].factory
        protocol, transport = self.accept()
        protocol.dataReceived(data)
        if protocol._ready:
            # A valid header after all: the relay sees valid addresses.
            peer = protocol.wrappedProtocol.transport.getPeer()
            self.assertTrue(peer == PROXY or 0 <= peer.port <= 65535, peer)
            return
        self.reactor.advance(2.0)
        self.assertTrue(transport.disconnecting)
        self.assertEqual(self.service.accepted, 0)
