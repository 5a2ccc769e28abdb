"""
The description of a balancer that a C{.tac} file writes: plain frozen
values, checked when made. L{txlb.builder.Builder} turns one into services,
and L{txlb.tac.application} into a twistd application.

A C{.tac}::

    from txlb.config import Balancer, Service, Group, Host
    from txlb.tac import application

    application = application(Balancer(services=[
        Service("web", listen=["tcp:8080:interface=127.0.0.1"], groups=[
            Group("blue", scheduler="roundrobin", hosts=[
                Host("a", "127.0.0.1:8081"),
                Host("b", "127.0.0.1:8082", weight=3),
            ]),
        ]),
    ]))
"""

import attr

from txlb._tacboundary import movedName, valueObject
from txlb.access import parseNetwork
from txlb.errors import ConfigError
from txlb.routing import Route


def _name(kind):
    def check(instance, attribute, value):
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"a {kind} name must be a non-empty string, not {value!r}")

    return check


def _number(what, minimum=0, integer=False, optional=False, above=False):
    def check(instance, attribute, value):
        if value is None and optional:
            return
        kinds = (int,) if integer else (int, float)
        if isinstance(value, bool) or not isinstance(value, kinds):
            noun = "a whole number" if integer else "a number"
            raise ConfigError(f"{what} must be {noun}, not {value!r}")
        if value < minimum or (above and value == minimum):
            relation = "above" if above else "at least"
            raise ConfigError(f"{what} must be {relation} {minimum}, not {value!r}")

    return check


def _strings(value):
    if isinstance(value, str):
        return (value,)
    return tuple(value)


def _unique(kind):
    def check(instance, attribute, value):
        seen = set()
        for item in value:
            if item.name in seen:
                raise ConfigError(f"two {kind}s are named {item.name!r}")
            seen.add(item.name)

    return check


def _allOf(cls, kind):
    def check(instance, attribute, value):
        for item in value:
            if not isinstance(item, cls):
                raise ConfigError(f"{kind} {item!r} must be a {cls.__name__}(...)")

    return check


def _file(what):
    def check(instance, attribute, value):
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise ConfigError(f"{what} must be a file name, not {value!r}")

    return check


@valueObject
@attr.s(frozen=True)
class ClientTLS:
    """
    TLS from txlb to a host (see doc/tls.rst): the certificate the host
    serves is verified unless C{verify} is False.

    @ivar servername: the name sent (SNI) and checked in the host's
        certificate; None: the host part of the host's address.
    @ivar ca: a PEM file of the authorities trusted for the host; None: the
        system's trust roots.
    @ivar cert: a PEM file with a client certificate to show (it may hold
        the key too), or None.
    @ivar key: the PEM file of C{cert}'s key when not in C{cert}.
    @ivar verify: False accepts any certificate (logged once at start).
    """

    servername = attr.ib(default=None, validator=_file("a ClientTLS servername"))
    ca = attr.ib(default=None, validator=_file("a ClientTLS ca"))
    cert = attr.ib(default=None, validator=_file("a ClientTLS cert"))
    key = attr.ib(default=None, validator=_file("a ClientTLS key"))
    verify = attr.ib(default=True, converter=bool)

    @key.validator
    def _checkKey(self, attribute, value):
        if value is not None and self.cert is None:
            raise ConfigError("a ClientTLS key needs its cert")


def _sni(value):
    if value is None:
        return ()
    items = value.items() if isinstance(value, dict) else value
    return tuple((name, tuple(pair) if not isinstance(pair, str) else (pair, None)) for name, pair in items)


@valueObject
@attr.s(frozen=True)
class ServerTLS:
    """
    TLS from clients to txlb on a service's listeners (see doc/tls.rst).

    @ivar cert: the PEM file of the default certificate (it may hold the
        key and the chain too).
    @ivar key: the PEM file of its key when not in C{cert}.
    @ivar chain: a PEM file of intermediate certificates sent after it.
    @ivar clientCA: a PEM file of authorities: when given, clients must show
        a certificate one of them signed.
    @ivar sni: C{{name: (cert, key)}}: the certificate served to clients
        asking for C{name} (SNI); others get the default one.
    @ivar handshakeTimeout: seconds a client has to finish its handshake.
    """

    cert = attr.ib(validator=_file("a ServerTLS cert"))
    key = attr.ib(default=None, validator=_file("a ServerTLS key"))
    chain = attr.ib(default=None, validator=_file("a ServerTLS chain"))
    clientCA = attr.ib(default=None, validator=_file("a ServerTLS clientCA"))
    sni = attr.ib(default=(), converter=_sni)
    handshakeTimeout = attr.ib(default=10.0, validator=_number("a ServerTLS handshakeTimeout", above=True))

    @sni.validator
    def _checkSNI(self, attribute, value):
        for name, (cert, key) in value:
            if not isinstance(name, str) or not name.strip() or name == "default":
                raise ConfigError(f"a ServerTLS sni name must be a host name, not {name!r}")
            _file(f"the ServerTLS sni cert of {name!r}")(self, attribute, cert)
            _file(f"the ServerTLS sni key of {name!r}")(self, attribute, key)


@valueObject
@attr.s(frozen=True)
class Host:
    """
    A backend host.

    @ivar name: unique within its group.
    @ivar address: C{HOST:PORT}, C{[IPv6]:PORT} or a client endpoint string
        such as C{unix:/run/app.sock}.
    @ivar weight: its share of the work relative to the others (0 takes none).
    @ivar backup: serves only while no primary host is available.
    @ivar maxconn: the most connections it takes at once (None: no limit).
    @ivar tls: a L{ClientTLS}: txlb speaks TLS to this host.
    @ivar proxy: C{"v1"} or C{"v2"} to send a PROXY protocol header of
        that version first on each connection, telling the host the real
        client's address (None: send none).
    """

    name = attr.ib(validator=_name("host"))
    address = attr.ib()
    weight = attr.ib(default=1, validator=_number("a host's weight", integer=True))
    backup = attr.ib(default=False, converter=bool)
    maxconn = attr.ib(
        default=None,
        validator=_number("a host's maxconn", minimum=1, integer=True, optional=True),
    )
    tls = attr.ib(default=None)
    proxy = attr.ib(default=None)

    @proxy.validator
    def _checkProxy(self, attribute, value):
        if value not in (None, "v1", "v2"):
            raise ConfigError(f"host {self.name!r}: proxy must be 'v1', 'v2' or None, not {value!r}")

    @address.validator
    def _checkAddress(self, attribute, value):
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"host {self.name!r} needs an address such as 127.0.0.1:8080")

    @tls.validator
    def _checkTLS(self, attribute, value):
        if value is not None and not isinstance(value, ClientTLS):
            raise ConfigError(f"host {self.name!r}: tls must be a ClientTLS(...) or None, not {value!r}")


@valueObject
@attr.s(frozen=True)
class HealthCheck:
    """
    Active checks for a group's hosts (see doc/health.rst).

    @ivar kind: C{tcp}, C{http:/PATH}, C{send-expect:SEND:EXPECT} or a
        plugin's kind.
    @ivar options: the kind's options as strings (http: C{status}, C{body},
        C{host}).
    @ivar interval: seconds between checks of an up host.
    @ivar timeout: seconds one check may take.
    @ivar rise: consecutive passes that bring a down host up.
    @ivar fall: consecutive failures that take an up host down.
    @ivar jitter: the share by which each delay is randomly spread.
    @ivar maxInterval: the longest delay between checks of a down host
        (the delay doubles from C{interval}); None: 4 x C{interval}.
    """

    kind = attr.ib(default="tcp")
    options = attr.ib(factory=dict, converter=dict, hash=False)
    interval = attr.ib(default=2.0, validator=_number("a check's interval", above=True))
    timeout = attr.ib(default=1.0, validator=_number("a check's timeout", above=True))
    rise = attr.ib(default=2, validator=_number("a check's rise", minimum=1, integer=True))
    fall = attr.ib(default=3, validator=_number("a check's fall", minimum=1, integer=True))
    jitter = attr.ib(default=0.1, validator=_number("a check's jitter"))
    maxInterval = attr.ib(
        default=None, validator=_number("a check's maxInterval", optional=True, above=True)
    )


@valueObject
@attr.s(frozen=True)
class Ejection:
    """
    Passive ejection: hosts whose connections keep failing are taken out.

    @ivar failures: consecutive connect failures that eject a host.
    @ivar time: seconds of the first ejection; the n-th lasts n times this.
    @ivar maxTime: the longest ejection (seconds).
    @ivar maxShare: the largest share of the group ejected at once (0-1).
    """

    failures = attr.ib(default=3, validator=_number("ejection failures", minimum=1, integer=True))
    time = attr.ib(default=30.0, validator=_number("an ejection time", above=True))
    maxTime = attr.ib(default=300.0, validator=_number("an ejection maxTime", above=True))
    maxShare = attr.ib(default=0.5, validator=_number("an ejection maxShare"))


@valueObject
@attr.s(frozen=True)
class Heartbeat:
    """
    A heartbeat listener feeding a group.

    @ivar listen: C{udp:PORT} or C{udp:PORT:interface=ADDR}.
    @ivar keyFile: the file holding the shared HMAC key (16 bytes or more).
    @ivar deadAfter: seconds without a heartbeat after which a host is down.
    @ivar register: let correctly signed unknown names join the group.
    @ivar leaveAfter: seconds without a heartbeat after which a host that
        joined that way leaves the group again.
    @ivar maxAge: heartbeats whose timestamp is further than this from the
        balancer's clock (seconds) are dropped as stale.
    """

    listen = attr.ib()
    keyFile = attr.ib()
    deadAfter = attr.ib(default=3.0, validator=_number("a heartbeat deadAfter", above=True))
    register = attr.ib(default=False, converter=bool)
    leaveAfter = attr.ib(default=60.0, validator=_number("a heartbeat leaveAfter", above=True))
    maxAge = attr.ib(default=10.0, validator=_number("a heartbeat maxAge", above=True))


def _optional(cls, what):
    def check(instance, attribute, value):
        if value is not None and not isinstance(value, cls):
            raise ConfigError(f"{what} must be a {cls.__name__}(...) or None, not {value!r}")

    return check


ALL_DOWN_POLICIES = ("refuse", "panic")


def _networks(what):
    def check(instance, attribute, value):
        for text in value:
            try:
                parseNetwork(text)
            except ValueError as e:
                raise ConfigError(f"{what}: {e}") from None

    return check


@valueObject
@attr.s(frozen=True)
class Group:
    """
    A group of hosts and the scheduler that picks among them.

    @ivar scheduler: a scheduler name, with options after a colon
        (C{"hash:load=1.25"}); see C{twistd txlb --scheduler help}.
    @ivar queueSize: how many clients may wait when every host is at its
        maxconn; more are refused.
    @ivar queueTimeout: how long (seconds) a client may wait in that queue.
    @ivar check: a L{HealthCheck}, or None for no active checks.
    @ivar ejection: an L{Ejection}, or None for no passive ejection.
    @ivar allDown: C{refuse} (close clients) or C{panic} (use every host
        anyway) when no host is up.
    @ivar slowStart: seconds over which a returning host ramps up to its
        weight, or None.
    @ivar heartbeat: a L{Heartbeat} listener feeding this group, or None.
    @ivar hashKey: for the C{hash} and C{maglev} schedulers, a function
        given the L{txlb.routing.Connection} that returns the string to
        hash (instead of C{key=source}, C{source-port} or C{sni}).
    """

    name = attr.ib(validator=_name("group"))
    scheduler = attr.ib(default="roundrobin")
    hosts = attr.ib(default=(), converter=tuple)
    queueSize = attr.ib(default=256, validator=_number("a group's queueSize", integer=True))
    queueTimeout = attr.ib(default=10.0, validator=_number("a group's queueTimeout", above=True))
    check = attr.ib(default=None, validator=_optional(HealthCheck, "a group's check"))
    ejection = attr.ib(factory=Ejection, validator=_optional(Ejection, "a group's ejection"))
    allDown = attr.ib(default="refuse")
    slowStart = attr.ib(
        default=None, validator=_number("a group's slowStart", optional=True, above=True)
    )
    heartbeat = attr.ib(default=None, validator=_optional(Heartbeat, "a group's heartbeat"))
    hashKey = attr.ib(default=None)

    @hashKey.validator
    def _checkHashKey(self, attribute, value):
        if value is not None and not callable(value):
            raise ConfigError(f"group {self.name!r}: hashKey must be a function, not {value!r}")

    @hosts.validator
    def _checkHosts(self, attribute, value):
        _allOf(Host, "host")(self, attribute, value)
        _unique("host")(self, attribute, value)

    @allDown.validator
    def _checkAllDown(self, attribute, value):
        if value not in ALL_DOWN_POLICIES:
            raise ConfigError(
                f"group {self.name!r}: allDown must be one of {', '.join(ALL_DOWN_POLICIES)}, "
                f"not {value!r}"
            )


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


@valueObject
@attr.s(frozen=True)
class Admin:
    """
    The admin: XML-RPC at C{/RPC2}, the status page at C{/} and Prometheus
    metrics at C{/metrics}, on each endpoint of C{listen}.

    @ivar users: a password file written by C{txlb passwd}; without one the
        admin may only listen on loopback or a UNIX socket.
    @ivar refresh: seconds between automatic refreshes of the status page.
    @ivar projectURL: a link shown in the status page's header.
    @ivar accessLog: log one line per admin request (at most 20 a second).
    @ivar maxBody: the largest request body in bytes; larger is answered 413.
    @ivar headerTimeout: seconds a request's headers may take.
    @ivar requestTimeout: seconds a whole request may take, answer included.
    @ivar maxConnections: admin connections open at once; more are closed.
    @ivar descriptorReserve: file descriptors the admin leaves to the relay.
    @ivar legacyWebAPI: also answer pythondirector's web API (C{/running.txt},
        C{/addHost?...}; see doc/migration.rst).
    """

    listen = attr.ib(converter=_strings)
    users = attr.ib(default=None)
    refresh = attr.ib(default=10.0, validator=_number("the admin's refresh", above=True))
    projectURL = attr.ib(default=None)
    accessLog = attr.ib(default=False)
    maxBody = attr.ib(default=2**20, validator=_number("the admin's maxBody", 1, integer=True))
    headerTimeout = attr.ib(default=10.0, validator=_number("the admin's headerTimeout", above=True))
    requestTimeout = attr.ib(default=60.0, validator=_number("the admin's requestTimeout", above=True))
    maxConnections = attr.ib(default=64, validator=_number("the admin's maxConnections", 1, integer=True))
    descriptorReserve = attr.ib(default=256, validator=_number("the admin's descriptorReserve", integer=True))
    legacyWebAPI = attr.ib(default=False, converter=bool)

    @listen.validator
    def _checkListen(self, attribute, value):
        if not value:
            raise ConfigError("the admin needs at least one endpoint to listen on")


def _optionalPath(what):
    def check(instance, attribute, value):
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise ConfigError(f"{what} must be the path of a UNIX socket, not {value!r}")

    return check


@valueObject
@attr.s(frozen=True)
class Etcd:
    """
    The etcd cluster a fleet of balancers shares its services through
    (see doc/scale-out.rst): C{endpoints} are the members' client URLs
    (C{http://10.0.0.1:2379}), C{prefix} the keys' prefix.
    """

    endpoints = attr.ib(converter=lambda v: tuple(u.strip() for u in (v.split(",") if isinstance(v, str) else v)))
    prefix = attr.ib(default="/txlb/")

    @endpoints.validator
    def _checkEndpoints(self, attribute, value):
        if not value or not all(v.startswith(("http://", "https://")) for v in value):
            raise ConfigError(f"etcd endpoints are URLs such as http://127.0.0.1:2379, not {list(value)!r}")

    @prefix.validator
    def _checkPrefix(self, attribute, value):
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"the etcd prefix must be a non-empty string such as /txlb/, not {value!r}")


def _admins(value):
    return (value,) if isinstance(value, Admin) else tuple(value)


#: The formats an access log may be written in.
ACCESS_LOG_FORMATS = ("text", "json")


@valueObject
@attr.s(frozen=True)
class AccessLog:
    """
    One record per client connection, written when it ends (see
    C{doc/operations.rst}).

    @ivar path: the file records are appended to, or C{"-"} to send them
        through txlb's own log instead.
    @ivar format: C{"text"} (one line in the spirit of HAProxy's tcplog) or
        C{"json"} (one JSON object a line).
    """

    path = attr.ib()
    format = attr.ib(default="text")

    @path.validator
    def _checkPath(self, attribute, value):
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"an access log's path must be a file name or '-', not {value!r}")

    @format.validator
    def _checkFormat(self, attribute, value):
        if value not in ACCESS_LOG_FORMATS:
            raise ConfigError(f"an access log's format is text or json, not {value!r}")


@valueObject
@attr.s(frozen=True)
class Balancer:
    """
    Everything one txlb process runs: services, and any number of admins.

    @ivar accessLog: an L{AccessLog}, or None for none.
    @ivar handover: the path of a UNIX socket: txlb started while another
        txlb answers there takes over its sockets (hitless upgrade), else
        it serves handovers there; None for none.
    @ivar dns: the DNS servers (C{HOST:PORT}) backends named by host name
        are resolved with; empty for those of C{/etc/resolv.conf}.
    @ivar maxconn: client connections the whole process holds at once,
        over every service; at the cap every listener stops accepting
        until one ends (None: no limit). With C{--workers N}, each worker
        process has this cap of its own.
    @ivar state: a file the running configuration is kept in (written after
        every change; at start, when it exists, it wins over this
        description): see doc/reconfiguration.rst. None keeps no state.
    """

    services = attr.ib(default=(), converter=tuple)
    admin = attr.ib(default=(), converter=_admins)
    maxconn = attr.ib(
        default=None, validator=_number("the balancer's maxconn", minimum=1, integer=True, optional=True)
    )
    state = attr.ib(default=None)


    etcd = attr.ib(default=None)
    accessLog = attr.ib(default=None)
    handover = attr.ib(default=None, validator=_optionalPath("handover"))
    dns = attr.ib(default=(), converter=_strings)

    @etcd.validator
    def _checkEtcd(self, attribute, value):
        if value is not None and not isinstance(value, Etcd):
            raise ConfigError(f"etcd must be an Etcd(endpoints, prefix=...), not {value!r}")

    @state.validator
    def _checkState(self, attribute, value):
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise ConfigError(f"state must be the path of a file, not {value!r}")

    @services.validator
    def _checkServices(self, attribute, value):
        _allOf(Service, "service")(self, attribute, value)
        _unique("service")(self, attribute, value)

    @admin.validator
    def _checkAdmin(self, attribute, value):
        _allOf(Admin, "admin")(self, attribute, value)

    @accessLog.validator
    def _checkAccessLog(self, attribute, value):
        if value is not None and not isinstance(value, AccessLog):
            raise ConfigError(f"a balancer's accessLog must be an AccessLog(...), not {value!r}")


def _backendName(text, address, flags):
    """
    Split a name written C{NAME=ADDR} off C{address}; C{NAME} has no C{:}
    (so C{unix:path=/run/app.sock} stays an address).
    """
    name, eq, rest = address.partition("=")
    if not eq or ":" in name or "[" in name:
        return None, address
    if not name.strip() or not rest.strip():
        raise ConfigError(f"--backend {text!r}: write NAME=ADDRESS, such as app1=127.0.0.1:8081")
    return name.strip(), rest.strip()


_TLS_FLAGS = {"servername": "servername", "ca": "ca", "cert": "cert", "key": "key"}


def parseBackend(text):
    """
    Read a quick-start C{--backend} value,
    C{[NAME=]ADDR[,name=NAME][,weight=N][,backup][,maxconn=N][,proxy=v1|v2]} with
    C{[,tls[,servername=NAME][,ca=FILE][,cert=FILE][,key=FILE][,verify=no]]},
    into a
    L{Host} named C{NAME}, or after its address when no name is given.

    @raise ConfigError: naming what is wrong.
    """
    address, *flags = [part.strip() for part in text.split(",")]
    name, address = _backendName(text, address, flags)
    if not address:
        raise ConfigError(f"--backend {text!r} needs an address such as 127.0.0.1:8081")
    options = {}
    tls = None
    for flag in flags:
        key, eq, value = flag.partition("=")
        if key == "tls" and not eq:
            tls = tls or {}
        elif key in _TLS_FLAGS and eq:
            tls = tls or {}
            tls[_TLS_FLAGS[key]] = value
        elif key == "verify" and eq:
            if value not in ("yes", "no"):
                raise ConfigError(f"--backend {text!r}: verify must be yes or no, not {value!r}")
            tls = tls or {}
            tls["verify"] = value == "yes"
        elif key == "backup" and not eq:
            options["backup"] = True
        elif key == "proxy" and eq:
            if value not in ("v1", "v2"):
                raise ConfigError(f"--backend {text!r}: proxy must be v1 or v2, not {value!r}")
            options["proxy"] = value
        elif key == "name" and eq:
            if name is not None and name != value:
                raise ConfigError(f"--backend {text!r} names the host twice ({name!r} and {value!r})")
            name = value
        elif key in ("weight", "maxconn") and eq:
            try:
                options[key] = int(value)
            except ValueError:
                raise ConfigError(
                    f"--backend {text!r}: {key} must be a whole number, not {value!r}"
                ) from None
        else:
            raise ConfigError(
                f"--backend {text!r}: unknown option {flag!r} "
                "(expected name=NAME, weight=N, backup, maxconn=N, proxy=v1|v2, tls, "
                "servername=NAME, ca=FILE, cert=FILE, key=FILE or verify=no)"
            )
    try:
        if tls is not None:
            if not any(flag == "tls" for flag in flags):
                raise ConfigError("servername, ca, cert, key and verify need the tls flag")
            options["tls"] = ClientTLS(**tls)
        return Host(address if name is None else name, address, **options)
    except ConfigError as e:
        raise ConfigError(f"--backend {text!r}: {e}") from None


def __getattr__(name):
    """
    C{application} moved to L{txlb.tac}; under C{twistd -y}, a .tac that
    still imports it from here gets one sentence saying so.
    """
    if name == "application":
        raise movedName(__name__, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
