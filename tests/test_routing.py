"""
Tests for L{txlb.routing}: the L{Route} value (checked, printed as Python),
matching on server name, ALPN, source and listener, the router's
precedence, and a failing router logged once per burst.
"""

import os

import twisted.plugins
from twisted.internet.address import IPv4Address, IPv6Address, UNIXAddress
from twisted.internet.task import Clock
from twisted.internet.testing import MemoryReactorClock
from twisted.logger import globalLogPublisher
from twisted.plugin import IPlugin
from twisted.trial.unittest import SynchronousTestCase
from zope.interface import implementer
from zope.interface.verify import verifyObject

from tests.support import ROOT
from txlb.builder import Builder
from txlb.clienthello import ClientHello
from txlb.config import Group, Host, Service
from txlb.errors import ConfigError
from txlb.interfaces import IRouter
from txlb.routing import (
    DEFAULT_ROUTE,
    ROUTER_ROUTE,
    Connection,
    Route,
    Routing,
    describeMatch,
    findRouter,
)


def connection(host="10.1.2.3", port=4000, sni=None, alpn=(), listener="tcp:443"):
    """
    A L{Connection} from an IPv4 client.
    """
    return Connection.of(IPv4Address("TCP", host, port), listener, ClientHello(sni, tuple(alpn)))


def routing(routes=(), router=None, groups=("a", "b", "c")):
    return Routing("web", groups, Clock(), routes, router)


@implementer(IPlugin, IRouter)
class EvenPorts:
    """
    A router plugin: even client ports to group b.
    """

    name = "even-ports"
    description = "even client ports to b"
    needsHello = False

    def route(self, connection):
        return "b" if connection.port % 2 == 0 else None


class RouteTests(SynchronousTestCase):
    def test_reprIsPython(self):
        """
        A route prints as the Python that makes it again.
        """
        route = Route("shop", sni="*.Shop.Example", alpn="h2", source="10.0.0.1/8", listener="tcp:443", name="s")
        self.assertEqual(eval(repr(route), {"Route": Route}), route)
        self.assertEqual(route.source, "10.0.0.0/8")
        self.assertEqual(route.sni, "*.shop.example")

    def test_label(self):
        """
        A route is counted under its name, or its group's.
        """
        self.assertEqual(Route("a").label, "a")
        self.assertEqual(Route("a", name="x").label, "x")

    def test_badSource(self):
        """
        A source that is not an address or network is one sentence.
        """
        e = self.assertRaises(ConfigError, Route, "a", source="10.0.0.0/33")
        self.assertIn("network such as 10.0.0.0/8", str(e))

    def test_badWildcard(self):
        """
        Only one leading C{*.} label is a wildcard.
        """
        for sni in ("a.*.example", "**.example", "*example.com", "*.*.example"):
            self.assertRaises(ConfigError, Route, "a", sni=sni)

    def test_reservedNames(self):
        """
        C{default} and C{router} name the counters of what no route decided.
        """
        self.assertRaises(ConfigError, Route, "default")
        self.assertRaises(ConfigError, Route, "a", name="router")
        Route("default", name="fallback")

    def test_serviceChecksGroup(self):
        """
        A service refuses a route to a group it does not have.
        """
        e = self.assertRaises(
            ConfigError, Service, "web", groups=[Group("a")], routes=[Route("b", sni="x")]
        )
        self.assertEqual(str(e), "service 'web': a route sends to group 'b', which it does not have")

    def test_serviceChecksRouter(self):
        """
        A router must be a function or a plugin's name.
        """
        self.assertRaises(ConfigError, Service, "web", groups=[Group("a")], router=3)

    def test_needsHello(self):
        """
        Only routes on the server name or ALPN need the ClientHello.
        """
        self.assertTrue(routing([Route("a", sni="x")]).needsHello)
        self.assertTrue(routing([Route("a", alpn="h2")]).needsHello)
        self.assertFalse(routing([Route("a", source="10.0.0.0/8")]).needsHello)
        self.assertTrue(routing(router=lambda c: None).needsHello)
        self.assertFalse(routing(router=EvenPorts()).needsHello)

    def test_describe(self):
        """
        A route's conditions read as C{name=value} pairs.
        """
        self.assertEqual(describeMatch(Route("a", sni="x.test", source="::1")), "sni=x.test source=::1/128")
        self.assertEqual(describeMatch(Route("a")), "any connection")


class MatchTests(SynchronousTestCase):
    def choose(self, routes, conn):
        return routing(routes).choose(conn)

    def test_exactName(self):
        """
        An exact server name matches that name, in any case, and no other.
        """
        routes = [Route("a", sni="Shop.Example.com")]
        self.assertEqual(self.choose(routes, connection(sni="shop.example.com")), ("a", "a"))
        self.assertEqual(self.choose(routes, connection(sni="www.shop.example.com")), (DEFAULT_ROUTE, None))
        self.assertEqual(self.choose(routes, connection(sni=None)), (DEFAULT_ROUTE, None))

    def test_wildcard(self):
        """
        C{*.api.example} matches names under C{api.example}, not itself.
        """
        routes = [Route("a", sni="*.api.example")]
        self.assertEqual(self.choose(routes, connection(sni="v1.api.example"))[1], "a")
        self.assertEqual(self.choose(routes, connection(sni="x.v1.api.example"))[1], "a")
        self.assertIsNone(self.choose(routes, connection(sni="api.example"))[1])
        self.assertIsNone(self.choose(routes, connection(sni="xapi.example"))[1])

    def test_alpn(self):
        """
        An ALPN condition matches when the client offers that protocol.
        """
        routes = [Route("a", alpn="h2")]
        self.assertEqual(self.choose(routes, connection(alpn=["http/1.1", "h2"]))[1], "a")
        self.assertIsNone(self.choose(routes, connection(alpn=["http/1.1"]))[1])

    def test_source(self):
        """
        A source network matches client addresses inside it, IPv4 or IPv6;
        a UNIX client matches none.
        """
        routes = [Route("a", source="127.0.0.2"), Route("b", source="fd00::/8")]
        self.assertEqual(self.choose(routes, connection("127.0.0.2"))[1], "a")
        self.assertIsNone(self.choose(routes, connection("127.0.0.1"))[1])
        six = Connection.of(IPv6Address("TCP", "fd00::5", 1))
        self.assertEqual(self.choose(routes, six)[1], "b")
        unix = Connection.of(UNIXAddress(b"/tmp/s"))
        self.assertIsNone(self.choose(routes, unix)[1])

    def test_listener(self):
        """
        A listener condition matches the endpoint string that accepted.
        """
        routes = [Route("a", listener="tcp:8443")]
        self.assertEqual(self.choose(routes, connection(listener="tcp:8443"))[1], "a")
        self.assertIsNone(self.choose(routes, connection(listener="tcp:443"))[1])

    def test_allConditions(self):
        """
        Every given condition must match; the first matching route wins.
        """
        routes = [Route("a", sni="x.test", source="10.0.0.0/8"), Route("b", sni="x.test")]
        self.assertEqual(self.choose(routes, connection("10.0.0.1", sni="x.test"))[1], "a")
        self.assertEqual(self.choose(routes, connection("192.0.2.1", sni="x.test"))[1], "b")


class RouterTests(SynchronousTestCase):
    def setUp(self):
        self.events = []
        globalLogPublisher.addObserver(self.events.append)
        self.addCleanup(globalLogPublisher.removeObserver, self.events.append)

    def warnings(self):
        return [e for e in self.events if "the router" in e.get("log_format", "")]

    def test_routerFirst(self):
        """
        A router's group wins over the routes; its None lets the routes decide.
        """
        r = routing([Route("a", sni="x.test")], router=lambda c: "b" if c.port == 1 else None)
        self.assertEqual(r.choose(connection(port=1, sni="x.test")), (ROUTER_ROUTE, "b"))
        self.assertEqual(r.choose(connection(port=2, sni="x.test")), ("a", "a"))

    def test_routerSees(self):
        """
        The router is given the client's address, listener, name and ALPN.
        """
        seen = []
        routing(router=lambda c: seen.append(c)).choose(connection(sni="s.test", alpn=["h2"]))
        c = seen[0]
        self.assertEqual((c.host, c.port, c.listener, c.sni, c.alpn), ("10.1.2.3", 4000, "tcp:443", "s.test", ("h2",)))
        self.assertRaises(AttributeError, setattr, c, "sni", "other")

    def test_routerRaises(self):
        """
        A router that raises sends the connection to the enabled group (not
        to the routes), and is logged once per second however often.
        """
        clock = Clock()

        def broken(c):
            raise KeyError("oops")

        r = Routing("web", ["a"], clock, [Route("a")], broken)
        for _ in range(5):
            self.assertEqual(r.choose(connection()), (DEFAULT_ROUTE, None))
        self.assertEqual(r.routerErrors, 5)
        self.assertEqual(len(self.warnings()), 1)
        clock.advance(1.5)
        r.choose(connection())
        self.assertEqual(len(self.warnings()), 2)
        self.assertIn("4 more", self.warnings()[1]["more"])

    def test_unknownGroup(self):
        """
        A router naming a group the service does not have is logged and the
        connection goes to the enabled group.
        """
        r = routing(router=lambda c: "nope")
        self.assertEqual(r.choose(connection()), (DEFAULT_ROUTE, None))
        self.assertIn("nope", self.warnings()[0]["what"])

    def test_plugin(self):
        """
        A router may be an L{IRouter} provider; a plugin name that is not
        found is one sentence naming the routers found.
        """
        verifyObject(IRouter, EvenPorts())
        r = routing(router=EvenPorts())
        self.assertEqual(r.choose(connection(port=2)), (ROUTER_ROUTE, "b"))
        self.assertEqual(r.choose(connection(port=3)), (DEFAULT_ROUTE, None))
        e = self.assertRaises(ConfigError, findRouter, "no-such-router")
        self.assertIn("unknown router 'no-such-router'", str(e))

    def test_counts(self):
        """
        Each route, the router and C{default} have their own counters.
        """
        r = routing([Route("a", name="first"), Route("b")], router=lambda c: None)
        self.assertEqual(sorted(r.counts), ["b", "default", "first", "router"])


class PluginTests(SynchronousTestCase):
    def test_examplePlugin(self):
        """
        The example router plugin in tacs/plugins is found by its name when
        its folder is on the plugin path, and routes by ALPN.
        """
        folder = os.path.join(ROOT, "tacs", "plugins", "twisted", "plugins")
        twisted.plugins.__path__.append(folder)
        self.addCleanup(twisted.plugins.__path__.remove, folder)
        plugin = findRouter("alpn-h2")
        verifyObject(IRouter, plugin)
        r = routing(router="alpn-h2", groups=("a", "h2"))
        self.assertEqual(r.choose(connection(alpn=["h2"])), (ROUTER_ROUTE, "h2"))
        self.assertEqual(r.choose(connection(alpn=["http/1.1"])), (DEFAULT_ROUTE, None))


class BuilderTests(SynchronousTestCase):
    def test_unknownRouterName(self):
        """
        A service naming a router plugin that is not installed is one
        sentence when it is built.
        """
        spec = Service("web", groups=[Group("a", hosts=[Host("x", "127.0.0.1:1")])], router="nosuch")
        e = self.assertRaises(ConfigError, Builder(MemoryReactorClock()).service, spec)
        self.assertIn("unknown router 'nosuch'", str(e))

    def test_noRoutingWithoutRoutes(self):
        """
        A service without routes, router or hash on the server name has no
        routing: its connections go straight to the enabled group.
        """
        spec = Service("web", groups=[Group("a", scheduler="hash", hosts=[Host("x", "127.0.0.1:1")])])
        self.assertIsNone(Builder(MemoryReactorClock()).service(spec).routing)


class ConnectionTests(SynchronousTestCase):
    def test_addressLike(self):
        """
        A connection has the C{host} and C{port} of its address, and prints
        as it.
        """
        peer = IPv4Address("TCP", "10.0.0.1", 5)
        c = Connection.of(peer)
        self.assertEqual((c.host, c.port, c.sni, c.alpn), ("10.0.0.1", 5, None, ()))
        self.assertEqual(str(c), str(peer))
