"""
Unit tests of routing inside the relay, on memory transports and a fake
clock: the group is chosen before a host is looked for, the ClientHello is
read first when needed (with a deadline) and relayed unchanged, and each
route counts its connections and bytes.
"""

from twisted.internet.address import IPv4Address
from twisted.internet.error import ConnectionDone
from twisted.python.failure import Failure

from tests.test_clienthello import clientHello
from tests.test_relay import HalfCloseTransport, RelayCase
from txlb.builder import Builder
from txlb.config import Group, Host, Route, Service

HELLO = clientHello("b.test", ["h2"])


class RoutingRelayCase(RelayCase):
    def routed(self, routes=(), router=None, scheduler="roundrobin", listen=(), **options):
        spec = Service(
            "web",
            listen=listen,
            groups=[
                Group("a", hosts=[Host("a1", "127.0.0.1:8001")]),
                Group("b", scheduler=scheduler, hosts=[Host("b1", "127.0.0.2:8002"), Host("b2", "127.0.0.3:8003")]),
            ],
            routes=routes,
            router=router,
            **options,
        )
        return Builder(self.reactor).service(spec)

    def accept(self, service, port=5000, host="10.0.0.1", factory=None):
        factory = factory or service.factory
        client = factory.buildProtocol(IPv4Address("TCP", host, port))
        transport = HalfCloseTransport(peerAddress=IPv4Address("TCP", host, port))
        client.makeConnection(transport)
        return client, transport

    def attemptedHost(self):
        host, port, factory, timeout, bindAddress = self.reactor.tcpClients[-1]
        return f"{host}:{port}"


class HelloRoutingTests(RoutingRelayCase):
    def test_waitsForHello(self):
        """
        With a route on the server name no host is asked for until the
        ClientHello has arrived; then the route's group is.
        """
        service = self.routed([Route("b", sni="b.test")])
        client, _ = self.accept(service)
        self.assertEqual(self.reactor.tcpClients, [])
        client.dataReceived(HELLO[:10])
        self.assertEqual(self.reactor.tcpClients, [])
        client.dataReceived(HELLO[10:])
        self.assertIn(self.attemptedHost(), ("127.0.0.2:8002", "127.0.0.3:8003"))
        self.assertEqual(client.route, "b")
        self.assertEqual(client.connection.sni, "b.test")

    def test_helloRelayedUnchanged(self):
        """
        The bytes read to route are what the backend receives first, exactly.
        """
        service = self.routed([Route("b", sni="b.test")])
        client, _ = self.accept(service)
        for i in range(0, len(HELLO), 7):
            client.dataReceived(HELLO[i : i + 7])
        client.dataReceived(b"after")
        _, backend = self.connectBackend()
        self.assertEqual(backend.value(), HELLO + b"after")

    def test_otherNameDefault(self):
        """
        A ClientHello for another name goes to the enabled group.
        """
        service = self.routed([Route("b", sni="b.test")])
        client, _ = self.accept(service)
        client.dataReceived(clientHello("c.test"))
        self.assertEqual(self.attemptedHost(), "127.0.0.1:8001")
        self.assertEqual(client.route, "default")

    def test_plainTextDefault(self):
        """
        A client whose first byte is not a TLS handshake goes to the enabled
        group at once, its bytes relayed.
        """
        service = self.routed([Route("b", sni="b.test")])
        client, _ = self.accept(service)
        client.dataReceived(b"GET / HTTP/1.0\r\n\r\n")
        self.assertEqual(self.attemptedHost(), "127.0.0.1:8001")
        _, backend = self.connectBackend()
        self.assertEqual(backend.value(), b"GET / HTTP/1.0\r\n\r\n")

    def test_silentClientDeadline(self):
        """
        A client that sends nothing is routed to the enabled group once the
        hello timeout passes (server-speaks-first protocols keep working).
        """
        service = self.routed([Route("b", sni="b.test")], helloTimeout=2.0)
        client, _ = self.accept(service)
        self.reactor.advance(1.9)
        self.assertEqual(self.reactor.tcpClients, [])
        self.reactor.advance(0.2)
        self.assertEqual(self.attemptedHost(), "127.0.0.1:8001")

    def test_partialHelloDeadline(self):
        """
        A ClientHello that stops half-way is routed at the deadline, and
        what came is still relayed.
        """
        service = self.routed([Route("b", sni="b.test")])
        client, _ = self.accept(service)
        client.dataReceived(HELLO[:30])
        self.reactor.advance(3.0)
        self.assertEqual(client.route, "default")
        _, backend = self.connectBackend()
        self.assertEqual(backend.value(), HELLO[:30])

    def test_halfCloseRoutes(self):
        """
        A client that half-closes before its hello is complete is routed at
        once, and the half-close is passed on.
        """
        service = self.routed([Route("b", sni="b.test")])
        client, _ = self.accept(service)
        client.dataReceived(HELLO[:30])
        client.readConnectionLost()
        self.assertEqual(client.route, "default")
        _, backend = self.connectBackend()
        self.assertTrue(backend.writeClosed)

    def test_clientLeavesWhileReading(self):
        """
        A client that goes away while its hello is read leaves no timer.
        """
        service = self.routed([Route("b", sni="b.test")])
        client, _ = self.accept(service)
        client.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(self.reactor.getDelayedCalls(), [])
        self.assertEqual(self.reactor.tcpClients, [])

    def test_bufferFullRoutes(self):
        """
        When the bytes kept reach the buffer size before a hello is complete,
        the client is routed without one.
        """
        service = self.routed([Route("b", sni="b.test")], bufferSize=64)
        client, _ = self.accept(service)
        client.dataReceived(HELLO[:100])
        self.assertEqual(client.route, "default")


class OtherRoutingTests(RoutingRelayCase):
    def test_sourceNoHello(self):
        """
        A source route decides at accept time, without reading anything.
        """
        service = self.routed([Route("b", source="10.9.0.0/16")])
        client, _ = self.accept(service, host="10.9.1.1")
        self.assertEqual(client.route, "b")
        self.assertIn(self.attemptedHost(), ("127.0.0.2:8002", "127.0.0.3:8003"))
        self.accept(service, host="10.8.1.1")
        self.assertEqual(self.attemptedHost(), "127.0.0.1:8001")

    def test_listenerRoute(self):
        """
        Each listener's connections carry its endpoint string.
        """
        service = self.routed([Route("b", listener="tcp:0:interface=127.0.0.1")], listen=["tcp:0:interface=127.0.0.1"])
        factory = service.listeners[0].factory
        client, _ = self.accept(service, factory=factory)
        self.assertEqual(client.route, "b")
        client, _ = self.accept(service)
        self.assertEqual(client.route, "default")

    def test_routerWithoutHello(self):
        """
        A router that says it does not need the hello decides at once.
        """

        def router(connection):
            return "b"

        router.needsHello = False
        service = self.routed(router=router)
        client, _ = self.accept(service)
        self.assertEqual(client.route, "router")

    def test_routerRaisesListenerLives(self):
        """
        A router that raises sends every client to the enabled group.
        """

        def router(connection):
            raise RuntimeError("bug")

        service = self.routed(router=router)
        for port in (1, 2, 3):
            client, _ = self.accept(service, port=port)
            client.dataReceived(HELLO)
            self.assertEqual(self.attemptedHost(), "127.0.0.1:8001")
        self.assertEqual(service.routing.routerErrors, 3)
        self.flushLoggedErrors()

    def test_counters(self):
        """
        A route counts its connections and the bytes both ways.
        """
        service = self.routed([Route("b", source="10.0.0.0/8")])
        client, _ = self.accept(service)
        client.dataReceived(b"12345")
        protocol, transport = self.connectBackend()
        client.dataReceived(b"678")
        protocol.dataReceived(b"abcd")
        count = service.routing.counts["b"]
        self.assertEqual((count.connections, count.bytesIn, count.bytesOut), (1, 8, 4))
        self.assertEqual(service.routing.counts["default"].connections, 0)

    def test_unroutedCounts(self):
        """
        A service without routes counts its connections under C{default}.
        """
        service = self.service(hosts=("a",))
        self.assertIsNone(service.routing)
        client, _ = self.accept(service)
        self.connectBackend()
        self.assertEqual(client.route, "default")
        self.assertEqual(service.defaultCount.connections, 1)

    def test_hashOnServerName(self):
        """
        C{hash:key=sni} reads the ClientHello even without routes, and the
        same name always reaches the same host.
        """
        service = self.routed([Route("b", sni="*.test")], scheduler="hash:key=sni")
        self.assertTrue(service.routing.needsHello)
        seen = set()
        for port in range(1, 6):
            client, _ = self.accept(service, port=port, host=f"10.0.0.{port}")
            client.dataReceived(HELLO)
            seen.add(self.attemptedHost())
        self.assertEqual(len(seen), 1)

    def test_hashKeyNeedsHello(self):
        """
        A group hashing on the server name makes the service read the hello.
        """
        spec = Service("web", groups=[Group("a", scheduler="maglev:key=sni", hosts=[Host("x", "127.0.0.1:1")])])
        service = Builder(self.reactor).service(spec)
        self.assertTrue(service.routing.needsHello)
        self.assertEqual(service.routing.routes, ())
