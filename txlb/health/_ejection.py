"""
Passive ejection (outlier detection): a host whose connections keep
failing is taken out for a while, longer each time it happens again.
"""

from twisted.logger import Logger

from txlb._ratelimit import RateLimiter
from txlb.backend import DOWN, UP
from txlb.health._observer import PoolWatcher, cancelTimer

DEFAULT_FAILURES = 3
DEFAULT_EJECTION_TIME = 30.0
DEFAULT_MAX_EJECTION_TIME = 300.0
DEFAULT_MAX_SHARE = 0.5


class PassiveEjector(PoolWatcher):
    """
    Ejects a host after C{failures} consecutive failed connection
    attempts, for C{ejectionTime} times the number of its ejections (at
    most C{maxEjectionTime}); the count starts again once a host stayed
    in for C{maxEjectionTime}. Never more than C{maxShare} of the group's
    hosts are ejected at once.

    With C{returnHosts} (no active checks), an ejected host comes back
    when its time is over; otherwise the checker brings it back after
    C{rise} passed checks.

    The service is named C{ejection:GROUP}; L{ejectedUntil} tells the admin.
    """

    kind = "ejection"
    log = Logger()

    def __init__(
        self,
        pool,
        clock,
        failures=DEFAULT_FAILURES,
        ejectionTime=DEFAULT_EJECTION_TIME,
        maxEjectionTime=DEFAULT_MAX_EJECTION_TIME,
        maxShare=DEFAULT_MAX_SHARE,
        returnHosts=True,
    ):
        PoolWatcher.__init__(self, pool)
        self.clock = clock
        self.failures = failures
        self.ejectionTime = ejectionTime
        self.maxEjectionTime = maxEjectionTime
        self.maxShare = maxShare
        self.returnHosts = returnHosts
        self._consecutive = {}
        self._ejected = {}
        self._ejections = {}
        self._returned = {}
        self._spareLog = RateLimiter(clock, 10.0)

    def ejectedUntil(self, name):
        """
        When host C{name}'s ejection ends (seconds), or None when it is in.
        """
        ejected = self._ejected.get(name)
        return None if ejected is None else ejected[1]

    def ejections(self, name):
        """
        How many times in a row host C{name} was ejected.
        """
        return self._ejections.get(name, 0)

    def stopped(self):
        for timer, _ in self._ejected.values():
            cancelTimer(timer)
        self._ejected.clear()

    def connectSucceeded(self, pool, host):
        self._consecutive.pop(host.name, None)

    def connectFailed(self, pool, host, reason):
        count = self._consecutive[host.name] = self._consecutive.get(host.name, 0) + 1
        if count >= self.failures and host.state == UP and host.name not in self._ejected:
            self._eject(host, count, reason)

    def stateChanged(self, pool, host, change):
        if change.new == UP:
            ejected = self._ejected.pop(host.name, None)
            if ejected is not None:
                cancelTimer(ejected[0])
                self._returned[host.name] = self.clock.seconds()

    def _eject(self, host, count, reason):
        if len(self._ejected) + 1 > self.maxShare * len(self.pool.hosts):
            suppressed = self._spareLog.allow()
            if suppressed is not None:
                self.log.warn(
                    "group {group}: not ejecting host {host} after {count} connect failures: "
                    "{share:.0%} of the group may be ejected at once",
                    group=self.pool.name,
                    host=host.name,
                    count=count,
                    share=self.maxShare,
                )
            return
        now = self.clock.seconds()
        if now - self._returned.get(host.name, now) >= self.maxEjectionTime:
            self._ejections.pop(host.name, None)
        times = self._ejections[host.name] = self._ejections.get(host.name, 0) + 1
        duration = min(self.ejectionTime * times, self.maxEjectionTime)
        timer = self.clock.callLater(duration, self._over, host)
        self._ejected[host.name] = (timer, now + duration)
        self._consecutive.pop(host.name, None)
        self.pool.setState(
            host, DOWN, f"ejected for {duration:g} s after {count} connect failures: {reason}"
        )

    def _over(self, host):
        self._ejected.pop(host.name, None)
        self._returned[host.name] = self.clock.seconds()
        if self.returnHosts and self.pool.hosts.get(host.name) is host and host.state == DOWN:
            self.pool.setState(host, UP, "ejection time over")
