"""
How a group watches its hosts: active checks, passive ejection, heartbeats.
"""

import attr

from txlb._tacboundary import valueObject
from txlb.config._checks import _number


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
