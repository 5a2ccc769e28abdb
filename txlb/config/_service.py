"""
A service in a description: listeners, groups, routes, the relay's settings, the edge.
"""

import attr

from txlb._tacboundary import valueObject
from txlb.errors import ConfigError
from txlb.config._checks import _allOf, _name, _networks, _number, _strings, _unique
from txlb.config._group import Group
from txlb.config._tls import ServerTLS
from txlb.routing import Route


@valueObject
@attr.s(frozen=True)
class Service:
    """
    A service: where clients arrive and the groups that serve them.

    @ivar listen: server endpoint strings (C{tcp:8080:interface=127.0.0.1},
        C{tcp6:8080}, C{unix:/run/lb.sock}, C{ssl:443:...}).
    @ivar groups: L{Group}s; one is enabled at a time.
    @ivar enabledGroup: the group new clients go to (default: the first).
    @ivar connectTimeout: seconds to wait for a host to accept.
    @ivar idleTimeout: seconds of silence both ways after which a connection
        is closed (None: never).
    @ivar maxTries: how many hosts a client is tried on before giving up.
    @ivar bufferSize: bytes kept from a client while a host is being
        connected to, beyond which reading from the client pauses.
    @ivar drainTimeout: seconds open connections may finish in after a
        stop (SIGTERM) before they are aborted.
    @ivar splice: move bytes inside the kernel (C{splice(2)}, Linux) once a
        client and its host are both plain TCP; False keeps every byte on
        Twisted's normal path.
    @ivar lean: carry plain TCP connections on the lean path
        (L{txlb.lean}: raw sockets on the reactor, no Twisted transport);
        False keeps them on Twisted's transports.
    @ivar allow: networks (C{10.0.0.0/8}, C{::1}) clients may come from;
        empty: any not denied.
    @ivar deny: networks clients may not come from (a deny wins).
    @ivar maxClientConns: connections one client address may hold open at
        once (None: no limit).
    @ivar maxClientRate: new connections one client address may open per
        second (None: no limit).
    @ivar maxconn: client connections the service holds at once; at the
        cap it stops accepting until one ends (None: no limit).
    @ivar proxyHeaderTimeout: seconds a client of a C{haproxy:} listener
        has to send its PROXY protocol header.
    @ivar routes: L{Route}s choosing the group per connection (see
        doc/routing.rst); the first that matches wins.
    @ivar router: a function given a L{txlb.routing.Connection} that
        returns a group name or None, or the name of a router plugin.
    @ivar helloTimeout: seconds a client has to send its TLS ClientHello
        when a route, router or hash key needs it; then it goes on unrouted.
    @ivar tls: a L{ServerTLS}: clients speak TLS to every listener of the
        service that is not an C{ssl:} endpoint already.
    """

    name = attr.ib(validator=_name("service"))
    listen = attr.ib(default=(), converter=_strings)
    groups = attr.ib(default=(), converter=tuple)
    enabledGroup = attr.ib(default=None)
    connectTimeout = attr.ib(default=5.0, validator=_number("connectTimeout", above=True))
    idleTimeout = attr.ib(
        default=None, validator=_number("idleTimeout", optional=True, above=True)
    )
    maxTries = attr.ib(default=3, validator=_number("maxTries", minimum=1, integer=True))
    bufferSize = attr.ib(
        default=64 * 1024, validator=_number("bufferSize", minimum=1, integer=True)
    )
    drainTimeout = attr.ib(default=10.0, validator=_number("drainTimeout"))
    splice = attr.ib(default=True, converter=bool)
    lean = attr.ib(default=True, converter=bool)
    allow = attr.ib(default=(), converter=_strings)
    deny = attr.ib(default=(), converter=_strings)
    maxClientConns = attr.ib(
        default=None, validator=_number("maxClientConns", minimum=1, integer=True, optional=True)
    )
    maxClientRate = attr.ib(
        default=None, validator=_number("maxClientRate", minimum=1, integer=True, optional=True)
    )
    maxconn = attr.ib(
        default=None, validator=_number("a service's maxconn", minimum=1, integer=True, optional=True)
    )
    proxyHeaderTimeout = attr.ib(default=3.0, validator=_number("proxyHeaderTimeout", above=True))

    @allow.validator
    def _checkAllow(self, attribute, value):
        _networks(f"service {self.name!r}: allow")(self, attribute, value)

    @deny.validator
    def _checkDeny(self, attribute, value):
        _networks(f"service {self.name!r}: deny")(self, attribute, value)

    routes = attr.ib(default=(), converter=tuple)
    router = attr.ib(default=None)
    helloTimeout = attr.ib(default=3.0, validator=_number("helloTimeout", above=True))

    @routes.validator
    def _checkRoutes(self, attribute, value):
        _allOf(Route, "route")(self, attribute, value)
        groups = {g.name for g in self.groups}
        for route in value:
            if route.group not in groups:
                raise ConfigError(
                    f"service {self.name!r}: a route sends to group {route.group!r}, "
                    "which it does not have"
                )

    @router.validator
    def _checkRouter(self, attribute, value):
        if value is not None and not isinstance(value, str) and not callable(value):
            raise ConfigError(
                f"service {self.name!r}: router must be a function or a router's name, not {value!r}"
            )

    tls = attr.ib(default=None)

    @tls.validator
    def _checkTLS(self, attribute, value):
        if value is not None and not isinstance(value, ServerTLS):
            raise ConfigError(f"service {self.name!r}: tls must be a ServerTLS(...) or None, not {value!r}")

    @groups.validator
    def _checkGroups(self, attribute, value):
        _allOf(Group, "group")(self, attribute, value)
        _unique("group")(self, attribute, value)
        if not value:
            raise ConfigError(f"service {self.name!r} needs at least one group")

    @enabledGroup.validator
    def _checkEnabled(self, attribute, value):
        if value is not None and value not in {g.name for g in self.groups}:
            raise ConfigError(f"service {self.name!r} has no group named {value!r} to enable")
