"""
The whole description: services, admin, and what the process shares.
"""

import attr

from txlb._tacboundary import valueObject
from txlb.errors import ConfigError
from txlb.config._checks import _allOf, _number, _optionalPath, _strings, _unique
from txlb.config._service import Service


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
