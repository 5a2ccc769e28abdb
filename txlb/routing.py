"""
Routing: which group of a service serves one client connection.

A service's L{Route}s (conditions on the server name, the offered
application protocols, the client's address and the listener) and its
router (a Python callable, or a Twisted plugin providing
L{txlb.interfaces.IRouter}) are asked once per connection, before a host is
looked for; what neither decides goes to the enabled group.

L{Routing} is the running form: built once per service by the builder, it
owns the per-route counters and logs (one line per burst) a router that
raises or names a group the service does not have.
"""

import ipaddress

import attr
import twisted.plugins
from twisted.logger import Logger
from twisted.plugin import getPlugins

from txlb._ratelimit import RateLimiter, sinceLast
from txlb.address import formatAddress
from txlb.errors import ConfigError
from txlb.interfaces import IRouter

#: The route name counted for connections no route or router decided.
DEFAULT_ROUTE = "default"
#: The route name counted for connections the router decided.
ROUTER_ROUTE = "router"
RESERVED_ROUTES = (DEFAULT_ROUTE, ROUTER_ROUTE)


def _optionalText(what):
    def check(instance, attribute, value):
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise ConfigError(f"a route's {what} must be a non-empty string, not {value!r}")

    return check


def _lower(value):
    return value.lower().rstrip(".") if isinstance(value, str) else value


def _network(value):
    if value is None:
        return None
    try:
        return str(ipaddress.ip_network(value, strict=False))
    except (TypeError, ValueError):
        raise ConfigError(
            f"a route's source must be an address or a network such as 10.0.0.0/8, not {value!r}"
        ) from None


@attr.s(frozen=True, slots=True)
class Route:
    """
    Send connections that match every given condition to group C{group}.

    @ivar group: the name of one of the service's groups.
    @ivar sni: the server name asked for in the TLS ClientHello: exact, or
        C{*.example.com} for any name one or more labels under
        C{example.com}; case does not matter.
    @ivar alpn: an application protocol the client offers (C{h2}).
    @ivar source: the client's address, or a network (C{10.0.0.0/8},
        C{::1/128}).
    @ivar listener: the listen endpoint string (as written in the service's
        C{listen}) that accepted the connection.
    @ivar name: what the route is counted and listed as (default: its
        group's name).
    """

    group = attr.ib(validator=_optionalText("group"))
    sni = attr.ib(default=None, converter=_lower, validator=_optionalText("sni"))
    alpn = attr.ib(default=None, validator=_optionalText("alpn"))
    source = attr.ib(default=None, converter=_network)
    listener = attr.ib(default=None, validator=_optionalText("listener"))
    name = attr.ib(
        default=attr.Factory(lambda route: route.group, takes_self=True),
        validator=_optionalText("name"),
    )

    def __attrs_post_init__(self):
        if self.group is None:
            raise ConfigError("a route needs the name of the group it sends to")
        if self.name is None:
            object.__setattr__(self, "name", self.group)
        if self.label in RESERVED_ROUTES:
            raise ConfigError(
                f"the route name {self.label!r} is reserved; give this route another name=..."
            )
        sni = self.sni
        if sni is not None and "*" in sni and not (sni.startswith("*.") and "*" not in sni[2:]):
            raise ConfigError(
                f"a route's sni {sni!r} may only have one leading '*.' label, as in *.example.com"
            )

    @property
    def label(self):
        """
        The route's name as counted (C{name}, which defaults to the group's).
        """
        return self.name

    @property
    def needsHello(self):
        """
        Whether matching needs the client's TLS ClientHello.
        """
        return self.sni is not None or self.alpn is not None


@attr.s(frozen=True, slots=True)
class Connection:
    """
    What a router and a hash key see of one client connection. It has the
    C{host} and C{port} of an IP address so that it can stand where a
    client's address is expected.

    @ivar peer: the client's address (an L{IAddress}; after a PROXY
        header, the real client's).
    @ivar host: the client's IP address as text, or None (UNIX sockets).
    @ivar port: the client's port, or None.
    @ivar listener: the listen endpoint string that accepted it.
    @ivar sni: the server name from the ClientHello, or None.
    @ivar alpn: the application protocols offered, a tuple of str.
    """

    peer = attr.ib()
    host = attr.ib(default=None)
    port = attr.ib(default=None)
    listener = attr.ib(default=None)
    sni = attr.ib(default=None)
    alpn = attr.ib(default=())

    @classmethod
    def of(cls, peer, listener=None, hello=None):
        """
        The connection of a client at address C{peer}, accepted on
        C{listener}, that sent C{hello} (a L{txlb.clienthello.ClientHello}
        or None).
        """
        sni, alpn = (hello.serverName, hello.alpn) if hello is not None else (None, ())
        return cls(
            peer,
            getattr(peer, "host", None),
            getattr(peer, "port", None),
            listener,
            sni,
            alpn,
        )

    def __str__(self):
        return str(self.peer)


def _sniMatcher(pattern):
    if pattern.startswith("*."):
        suffix = pattern[1:]
        return lambda name: name is not None and name.endswith(suffix) and len(name) > len(suffix)
    return lambda name: name == pattern


def _matcher(route):
    tests = []
    if route.sni is not None:
        sni = _sniMatcher(route.sni)
        tests.append(lambda c: sni(c.sni))
    if route.alpn is not None:
        alpn = route.alpn
        tests.append(lambda c: alpn in c.alpn)
    if route.source is not None:
        network = ipaddress.ip_network(route.source)

        def source(c):
            try:
                return c.host is not None and ipaddress.ip_address(c.host) in network
            except ValueError:
                return False

        tests.append(source)
    if route.listener is not None:
        listener = route.listener
        tests.append(lambda c: c.listener == listener)
    return lambda c: all(test(c) for test in tests)


@attr.s(slots=True)
class RouteCount:
    """
    The counters of one route.

    @ivar connections: connections the route took, ever.
    @ivar bytesIn: bytes from its clients relayed to hosts.
    @ivar bytesOut: bytes from hosts relayed to its clients.
    """

    connections = attr.ib(default=0)
    bytesIn = attr.ib(default=0)
    bytesOut = attr.ib(default=0)


def findRouter(name):
    """
    The router plugin (an L{IRouter} in C{twisted.plugins}) called C{name}.

    @raise ConfigError: naming the routers found.
    """
    found = list(getPlugins(IRouter, twisted.plugins))
    for plugin in found:
        if plugin.name == name:
            return plugin
    names = ", ".join(sorted(p.name for p in found)) or "none installed"
    raise ConfigError(f"unknown router {name!r}; known routers: {names}")


def routerCallable(router):
    """
    The callable a service's C{router} setting stands for, and whether it
    needs the ClientHello: a plugin's name, an L{IRouter}, or a function
    (which may say C{needsHello = False}).

    @raise ConfigError: for an unknown plugin name or something not callable.
    """
    if router is None:
        return None, False
    if isinstance(router, str):
        router = findRouter(router)
    if IRouter.providedBy(router):
        return router.route, bool(router.needsHello)
    if not callable(router):
        raise ConfigError(f"a service's router must be a function or a router's name, not {router!r}")
    return router, bool(getattr(router, "needsHello", True))


class Routing:
    """
    The routes and router of one service, and their counters.

    @ivar routes: the L{Route}s, in order.
    @ivar counts: a L{RouteCount} per route label, plus L{DEFAULT_ROUTE}
        and (with a router) L{ROUTER_ROUTE}.
    @ivar needsHello: whether connections must show their ClientHello
        before they are routed.
    @ivar routerErrors: router calls that raised or named an unknown group.
    """

    log = Logger()

    def __init__(self, serviceName, groups, clock, routes=(), router=None, needsHello=False):
        """
        @param groups: the service's group names.
        @param needsHello: read the ClientHello even when no route or
            router needs it (a scheduler hashes on the server name).
        @raise ConfigError: for a route to an unknown group or a bad router.
        """
        self.serviceName = serviceName
        self.groups = frozenset(groups)
        self.routes = tuple(routes)
        for route in self.routes:
            if route.group not in self.groups:
                raise ConfigError(
                    f"service {serviceName!r}: a route sends to group {route.group!r}, "
                    "which it does not have"
                )
        self.router, routerHello = routerCallable(router)
        self._matchers = [(_matcher(r), r.label, r.group) for r in self.routes]
        self.needsHello = bool(
            needsHello or routerHello or any(r.needsHello for r in self.routes)
        )
        self.active = bool(self.routes) or self.router is not None
        self.counts = {DEFAULT_ROUTE: RouteCount()}
        if self.router is not None:
            self.counts[ROUTER_ROUTE] = RouteCount()
        for route in self.routes:
            self.counts.setdefault(route.label, RouteCount())
        self.routerErrors = 0
        self._errorLog = RateLimiter(clock)

    def choose(self, connection):
        """
        The route label and group name for C{connection} (a L{Connection});
        the group is None for the enabled group. (The relay counts the
        connection in C{counts[label]}.)
        """
        if self.router is not None:
            try:
                group = self.router(connection)
            except Exception as e:
                self._routerFailed(connection, f"raised {e.__class__.__name__}: {e}")
                return DEFAULT_ROUTE, None
            if group is not None:
                if group in self.groups:
                    return ROUTER_ROUTE, group
                self._routerFailed(connection, f"named group {group!r}, which the service does not have")
                return DEFAULT_ROUTE, None
        for matches, label, group in self._matchers:
            if matches(connection):
                return label, group
        return DEFAULT_ROUTE, None

    def _routerFailed(self, connection, what):
        self.routerErrors += 1
        suppressed = self._errorLog.allow()
        if suppressed is None:
            return
        self.log.warn(
            "service {service}: the router {what} for client {client}; "
            "sent to the enabled group{more}",
            service=self.serviceName,
            what=what,
            client=formatAddress(connection.peer),
            more=sinceLast(suppressed),
        )

    def describe(self):
        """
        The routes and their counters as plain data (for the admin).
        """
        rows = []
        for route in self.routes:
            rows.append(dict(route=route.label, group=route.group, match=describeMatch(route)))
        if self.router is not None:
            rows.insert(0, dict(route=ROUTER_ROUTE, group="", match="the router decides"))
        rows.append(dict(route=DEFAULT_ROUTE, group="", match="anything else: the enabled group"))
        return rows


def describeMatch(route):
    """
    A route's conditions as a person reads them: C{sni=*.example.com alpn=h2}.
    """
    parts = [
        f"{name}={getattr(route, name)}"
        for name in ("sni", "alpn", "source", "listener")
        if getattr(route, name) is not None
    ]
    return " ".join(parts) or "any connection"


__all__ = [
    "Connection",
    "DEFAULT_ROUTE",
    "ROUTER_ROUTE",
    "Route",
    "RouteCount",
    "Routing",
    "describeMatch",
    "findRouter",
    "routerCallable",
]
