"""
The description of a balancer that a C{.tac} file writes: plain frozen
values, checked when made. L{txlb.builder.build} turns one into services.

A C{.tac}::

    from txlb.config import Balancer, Service, Group, Host, application

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

from txlb.errors import ConfigError


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
    """

    name = attr.ib(validator=_name("host"))
    address = attr.ib()
    weight = attr.ib(default=1, validator=_number("a host's weight", integer=True))
    backup = attr.ib(default=False, converter=bool)
    maxconn = attr.ib(
        default=None,
        validator=_number("a host's maxconn", minimum=1, integer=True, optional=True),
    )

    @address.validator
    def _checkAddress(self, attribute, value):
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"host {self.name!r} needs an address such as 127.0.0.1:8080")


@attr.s(frozen=True)
class Group:
    """
    A group of hosts and the scheduler that picks among them.

    @ivar scheduler: a scheduler name, with options after a colon
        (C{"hash:load=1.25"}); see C{twistd txlb --scheduler help}.
    @ivar queueSize: how many clients may wait when every host is at its
        maxconn; more are refused.
    @ivar queueTimeout: how long (seconds) a client may wait in that queue.
    """

    name = attr.ib(validator=_name("group"))
    scheduler = attr.ib(default="roundrobin")
    hosts = attr.ib(default=(), converter=tuple)
    queueSize = attr.ib(default=256, validator=_number("a group's queueSize", integer=True))
    queueTimeout = attr.ib(default=10.0, validator=_number("a group's queueTimeout", above=True))

    @hosts.validator
    def _checkHosts(self, attribute, value):
        _allOf(Host, "host")(self, attribute, value)
        _unique("host")(self, attribute, value)


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


@attr.s(frozen=True)
class Balancer:
    """
    Everything one txlb process runs.
    """

    services = attr.ib(default=(), converter=tuple)

    @services.validator
    def _checkServices(self, attribute, value):
        _allOf(Service, "service")(self, attribute, value)
        _unique("service")(self, attribute, value)


def parseBackend(text):
    """
    Read a quick-start C{--backend} value, C{ADDR[,weight=N][,backup][,maxconn=N]},
    into a L{Host} named after its address.

    @raise ConfigError: naming what is wrong.
    """
    address, *flags = [part.strip() for part in text.split(",")]
    if not address:
        raise ConfigError(f"--backend {text!r} needs an address such as 127.0.0.1:8081")
    options = {}
    for flag in flags:
        key, eq, value = flag.partition("=")
        if key == "backup" and not eq:
            options["backup"] = True
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
                "(expected weight=N, backup or maxconn=N)"
            )
    try:
        return Host(address, address, **options)
    except ConfigError as e:
        raise ConfigError(f"--backend {text!r}: {e}") from None


def application(balancer, name="txlb", reactor=None):
    """
    Build C{balancer} into a twistd C{Application}, for the last line of a
    C{.tac}: C{application = application(Balancer(...))}.
    """
    from twisted.application.service import Application

    from txlb.builder import build

    app = Application(name)
    build(balancer, reactor=reactor).setServiceParent(app)
    return app
