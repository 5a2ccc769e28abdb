"""
A group in a description: hosts, scheduler, queue, health.
"""

import attr

from txlb._tacboundary import valueObject
from txlb.errors import ConfigError
from txlb.config._checks import _allOf, _name, _number, _optional, _unique
from txlb.config._health import Ejection, HealthCheck, Heartbeat
from txlb.config._host import Host


ALL_DOWN_POLICIES = ("refuse", "panic")


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
