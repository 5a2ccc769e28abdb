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

from txlb._tacboundary import movedName
from txlb.config._backendflag import parseBackend
from txlb.config._balancer import AccessLog, Admin, Balancer, Etcd, ACCESS_LOG_FORMATS
from txlb.config._group import ALL_DOWN_POLICIES, Group
from txlb.config._health import Ejection, HealthCheck, Heartbeat
from txlb.config._host import Host
from txlb.config._service import Service
from txlb.config._tls import ClientTLS, ServerTLS
from txlb.routing import Route

__all__ = [
    "ACCESS_LOG_FORMATS",
    "ALL_DOWN_POLICIES",
    "AccessLog",
    "Admin",
    "Balancer",
    "ClientTLS",
    "Ejection",
    "Etcd",
    "Group",
    "HealthCheck",
    "Heartbeat",
    "Host",
    "Route",
    "ServerTLS",
    "Service",
    "parseBackend",
]


def __getattr__(name):
    """
    C{application} moved to L{txlb.tac}; under C{twistd -y}, a .tac that
    still imports it from here gets one sentence saying so.
    """
    if name == "application":
        raise movedName(__name__, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
