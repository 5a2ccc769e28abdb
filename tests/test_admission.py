"""
Unit tests for what a service checks at accept (access lists, per-client
limits) and for the PROXY header the relay sends to a C{proxy=} host, on
memory transports.
"""

from twisted.internet.address import IPv4Address, UNIXAddress
from twisted.internet.error import ConnectionDone
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.trial.unittest import SynchronousTestCase
from twisted.python.failure import Failure

from tests.test_relay import HalfCloseTransport, RelayCase
from txlb import proxyheader, terminations
from txlb.address import backendConnector
from txlb.backend import Backend
from txlb.builder import Builder
from twisted.web.xmlrpc import Fault

from txlb.admin import AdminAPI, AdminRPC
from txlb.config import Balancer, Group, Host, Service
from txlb.health import makeCheck

DONE = Failure(ConnectionDone())


class AdmissionTests(RelayCase):
    def acceptFrom(self, service, host, port=5000):
        client = service.factory.buildProtocol(None)
        transport = HalfCloseTransport(
            peerAddress=IPv4Address("TCP", host, port),
            hostAddress=IPv4Address("TCP", "10.0.0.1", 8080),
        )
        client.makeConnection(transport)
        return client, transport

    def test_deniedBeforeAnyBackendWork(self):
        """
        A denied client is closed at once, counted under C{denied}, ends
        as C{refused}; no host is tried and no host is counted.
        """
        service = self.service(deny=["10.0.0.0/8"])
        client, transport = self.acceptFrom(service, "10.0.0.1")
        self.assertTrue(transport.disconnecting)
        self.assertEqual(client.termination, terminations.REFUSED)
        self.assertEqual(service.refusals, {"denied": 1})
        self.assertEqual(self.reactor.tcpClients, [])
        client.connectionLost(DONE)
        self.assertEqual(service.clients, set())
        self.assertEqual(service.cap.open, 0)

    def test_allowed(self):
        """
        A client inside the allow list goes on to a host.
        """
        service = self.service(allow=["10.0.0.0/8"])
        _, transport = self.acceptFrom(service, "10.0.0.1")
        self.assertFalse(transport.disconnecting)
        self.assertEqual(len(self.reactor.tcpClients), 1)
        _, transport = self.acceptFrom(service, "192.0.2.1")
        self.assertTrue(transport.disconnecting)

    def test_maxClientConnsReleasedOnClose(self):
        """
        The per-address count is taken at accept and given back when the
        connection ends.
        """
        service = self.service(maxClientConns=1)
        first, _ = self.acceptFrom(service, "10.0.0.1")
        second, transport = self.acceptFrom(service, "10.0.0.1")
        self.assertTrue(transport.disconnecting)
        self.assertEqual(service.refusals, {"max-client-conns": 1})
        second.connectionLost(DONE)
        _, other = self.acceptFrom(service, "10.0.0.2")
        self.assertFalse(other.disconnecting)
        first.connectionLost(DONE)
        _, again = self.acceptFrom(service, "10.0.0.1")
        self.assertFalse(again.disconnecting)

    def test_maxClientRate(self):
        """
        Past C{maxClientRate} new connections in a second, an address is
        refused until the window moves on.
        """
        service = self.service(maxClientRate=2)
        for _ in range(2):
            client, transport = self.acceptFrom(service, "10.0.0.1")
            client.connectionLost(DONE)
        _, transport = self.acceptFrom(service, "10.0.0.1")
        self.assertTrue(transport.disconnecting)
        self.reactor.advance(1.0)
        _, transport = self.acceptFrom(service, "10.0.0.1")
        self.assertFalse(transport.disconnecting)
        self.assertEqual(service.refusals, {"max-client-rate": 1})


class SendHeaderTests(RelayCase):
    def makeService(self, proxy, listen=()):
        spec = Service(
            "web",
            listen=listen,
            groups=[Group("g", hosts=[Host("a", "127.0.0.1:8000", proxy=proxy)])],
        )
        return Builder(self.reactor).service(spec)

    def test_headerGoesFirst(self):
        """
        The header is written before the bytes the client sent while the
        host was being connected to, with the client's and the listener's
        addresses.
        """
        service = self.makeService("v1")
        client = service.factory.buildProtocol(None)
        transport = HalfCloseTransport(
            peerAddress=IPv4Address("TCP", "192.0.2.7", 51000),
            hostAddress=IPv4Address("TCP", "10.0.0.1", 8080),
        )
        client.makeConnection(transport)
        client.dataReceived(b"early")
        _, backend = self.connectBackend()
        client.dataReceived(b"late")
        self.assertEqual(
            backend.value(), b"PROXY TCP4 192.0.2.7 10.0.0.1 51000 8080\r\nearlylate"
        )
        self.assertEqual(service.pool.hosts["a"].bytesIn, 9)

    def test_unixListener(self):
        """
        A client of a UNIX listener makes an UNKNOWN header.
        """
        service = self.makeService("v2")
        client = service.factory.buildProtocol(None)
        transport = HalfCloseTransport(
            peerAddress=UNIXAddress(None), hostAddress=UNIXAddress(b"/run/lb.sock")
        )
        client.makeConnection(transport)
        _, backend = self.connectBackend()
        self.assertEqual(backend.value(), b"\r\n\r\n\x00\r\nQUIT\n\x21\x00\x00\x00")

    def test_noHeaderByDefault(self):
        """
        A host without C{proxy} gets the client's bytes only.
        """
        self.reactor = MemoryReactorClock()
        service = self.makeService(None)
        client = service.factory.buildProtocol(None)
        client.makeConnection(HalfCloseTransport(peerAddress=IPv4Address("TCP", "192.0.2.7", 1)))
        client.dataReceived(b"x")
        _, backend = self.connectBackend()
        self.assertEqual(backend.value(), b"x")


class HealthCheckHeaderTests(SynchronousTestCase):
    def test_checksSendTheHeaderFirst(self):
        """
        A check of a host that expects a PROXY header sends a LOCAL header
        before its own bytes; other hosts get none.
        """
        for proxy, first in [("v2", proxyheader.local("v2")), ("v1", b"PROXY UNKNOWN\r\n"), (None, b"")]:
            reactor = MemoryReactorClock()
            check = makeCheck("http:/health", reactor)
            host = Backend("a", "127.0.0.1:8081", backendConnector("127.0.0.1:8081", reactor), proxy=proxy)
            check.check(host, 1.0)
            transport = StringTransport()
            reactor.tcpClients[-1][2].buildProtocol(None).makeConnection(transport)
            self.assertTrue(transport.value().startswith(first + b"GET /health HTTP/1.0\r\n"), transport.value())


class ReconfigureTests(RelayCase):
    def test_setServiceChangesTheEdgeSettings(self):
        """
        setService (as applyConfig and SIGHUP use it) changes the access
        list, the per-client limits, maxconn and the PROXY header timeout
        of the running service; a connection admitted before is released
        into the table it was counted in.
        """
        spec = Balancer(services=[Service(
            "web", listen="haproxy:tcp:0", groups=[Group("g", hosts=[Host("a", "127.0.0.1:80")])],
            maxClientConns=1,
        )])
        builder = Builder(self.reactor)
        balancer = builder.balancer(spec)
        api = AdminAPI(balancer, builder)
        proxy = balancer.proxies["web"]
        early, _ = AdmissionTests.acceptFrom(self, proxy, "10.0.0.1")
        before = proxy.limits
        result = AdminRPC(api, "tester").lookupProcedure("setService")("web", {
            "deny": ["192.0.2.0/24"], "maxClientConns": 3, "maxClientRate": 5, "maxconn": 7,
            "proxyHeaderTimeout": 1.5,
        })
        self.assertFalse(isinstance(result, Fault), result)
        self.assertFalse(proxy.access.permits("192.0.2.1"))
        self.assertIs(proxy.limits, before)
        self.assertEqual((proxy.limits.maxConns, proxy.limits.maxRate), (3, 5))
        self.assertEqual((proxy.cap.limit, proxy.proxyHeaderTimeout), (7, 1.5))
        _, transport = AdmissionTests.acceptFrom(self, proxy, "192.0.2.1")
        self.assertTrue(transport.disconnecting)
        AdminRPC(api, "tester").lookupProcedure("setService")("web", {"maxClientConns": None, "maxClientRate": None})
        self.assertIsNone(proxy.limits)
        early.connectionLost(DONE)
        self.assertEqual(before.openFor("10.0.0.1"), 0)
