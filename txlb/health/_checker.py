"""
Active checks of one group: each host probed on its own timer, going down
after C{fall} failures and coming back only after C{rise} passes.
"""

import attr
from twisted.internet.defer import maybeDeferred

from txlb.backend import DOWN, UP
from txlb.health._observer import PoolWatcher, cancelTimer

DEFAULT_INTERVAL = 2.0
DEFAULT_TIMEOUT = 1.0
DEFAULT_RISE = 2
DEFAULT_FALL = 3
DEFAULT_JITTER = 0.1
BACKOFF_FACTOR = 4


@attr.s(frozen=True)
class CheckStatus:
    """
    What the checker knows about one host, for the admin to show.

    @ivar passes: consecutive passed checks.
    @ivar failures: consecutive failed checks.
    @ivar faults: failed checks, ever.
    @ivar lastCheck: when the last check ended (seconds), or None.
    @ivar lastResult: C{"ok"}, the reason of the last failure, or None.
    @ivar nextCheck: when the next check is due (seconds), or None.
    @ivar lastDuration: how long the last check took (seconds), or None.
    """

    passes = attr.ib()
    failures = attr.ib()
    faults = attr.ib()
    lastCheck = attr.ib()
    lastResult = attr.ib()
    nextCheck = attr.ib()
    lastDuration = attr.ib(default=None)


class _HostCheck:
    """
    The checker's mutable record of one host.
    """

    __slots__ = (
        "host", "passes", "failures", "faults", "lastCheck", "lastResult",
        "nextCheck", "delay", "timer", "pending", "started", "lastDuration",
    )

    def __init__(self, host, delay):
        self.host = host
        self.passes = self.failures = self.faults = 0
        self.lastCheck = self.lastResult = self.nextCheck = None
        self.delay = delay
        self.timer = self.pending = None
        self.started = self.lastDuration = None

    def status(self):
        return CheckStatus(
            self.passes, self.failures, self.faults, self.lastCheck, self.lastResult, self.nextCheck,
            self.lastDuration,
        )


class HealthChecker(PoolWatcher):
    """
    Checks every host of a pool with one L{ICheck}.

    Hosts that are down are checked less often as they keep failing: the
    interval doubles from C{interval} up to C{maxInterval} (ZEO's
    reconnect back-off), and returns to C{interval} on the first pass.
    Each delay is spread by C{jitter} (a share of it, drawn from C{random})
    and the first checks are spread over one interval.

    Only up and down hosts change state here; draining and maintenance
    hosts are checked but left where the admin put them.

    The service is named C{health:GROUP}; L{status} tells the admin about
    a host.
    """

    kind = "health"

    def __init__(
        self,
        pool,
        check,
        clock,
        random,
        interval=DEFAULT_INTERVAL,
        timeout=DEFAULT_TIMEOUT,
        rise=DEFAULT_RISE,
        fall=DEFAULT_FALL,
        jitter=DEFAULT_JITTER,
        maxInterval=None,
    ):
        PoolWatcher.__init__(self, pool)
        self.check = check
        self.clock = clock
        self.random = random
        self.interval = interval
        self.timeout = timeout
        self.rise = rise
        self.fall = fall
        self.jitter = jitter
        self.maxInterval = maxInterval if maxInterval is not None else interval * BACKOFF_FACTOR
        self._hosts = {}
        self._syncTimer = None

    # Admin view

    def status(self, name):
        """
        The L{CheckStatus} of host C{name}, or None before its first check
        was planned.
        """
        record = self._hosts.get(name)
        return None if record is None else record.status()

    def statuses(self):
        """
        A dict of host names to their L{CheckStatus}.
        """
        return {name: record.status() for name, record in self._hosts.items()}

    def checkNow(self, name):
        """
        Check host C{name} now rather than when due (the admin's
        C{retryHost}); returns False when the host is not checked yet.
        """
        record = self._hosts.get(name)
        if record is None:
            return False
        if record.pending is None:
            cancelTimer(record.timer)
            self._run(record)
        return True

    # Service

    def started(self):
        self._sync()

    def stopped(self):
        cancelTimer(self._syncTimer)
        self._syncTimer = None
        for record in list(self._hosts.values()):
            self._forget(record)
        self._hosts.clear()

    def _sync(self):
        """
        Start checking hosts added to the pool, stop checking removed ones;
        again every interval.
        """
        hosts = self.pool.hosts
        for name, record in list(self._hosts.items()):
            if hosts.get(name) is not record.host:
                self._forget(record)
                del self._hosts[name]
        for name, host in hosts.items():
            if name not in self._hosts:
                record = self._hosts[name] = _HostCheck(host, self.interval)
                self._plan(record, self.random.random() * self.interval)
        self._syncTimer = self.clock.callLater(self.interval, self._sync)

    def _forget(self, record):
        cancelTimer(record.timer)
        record.timer = None
        if record.pending is not None:
            record.pending.cancel()

    # Checking

    def _plan(self, record, delay):
        if self.jitter:
            delay *= 1 + self.jitter * (2 * self.random.random() - 1)
        delay = max(delay, 0.0)
        record.nextCheck = self.clock.seconds() + delay
        record.timer = self.clock.callLater(delay, self._run, record)

    def _run(self, record):
        record.timer = None
        record.nextCheck = None
        record.started = self.clock.seconds()
        timer = self.clock.callLater(self.timeout, lambda: record.pending.cancel())
        d = record.pending = maybeDeferred(self.check.check, record.host, self.timeout)
        d.addBoth(self._ended, record, timer)

    def _ended(self, result, record, timer):
        cancelTimer(timer)
        record.pending = None
        record.lastCheck = self.clock.seconds()
        if record.started is not None:
            record.lastDuration = max(0.0, record.lastCheck - record.started)
        if not self.running or self._hosts.get(record.host.name) is not record:
            return None
        if hasattr(result, "getErrorMessage"):
            self._failed(record, result.getErrorMessage())
        else:
            self._passed(record)
        return None

    def _passed(self, record):
        host = record.host
        record.passes += 1
        record.failures = 0
        record.lastResult = "ok"
        record.delay = self.interval
        if host.state == DOWN and record.passes >= self.rise:
            self.pool.setState(
                host, UP, f"{record.passes} checks passed ({self.check.description})"
            )
        self._plan(record, self.interval)

    def _failed(self, record, why):
        host = record.host
        record.failures += 1
        record.faults += 1
        record.passes = 0
        record.lastResult = why
        if host.state == UP and record.failures >= self.fall:
            self.pool.setState(
                host, DOWN, f"{record.failures} checks failed ({self.check.description}): {why}"
            )
        if host.state == DOWN:
            delay = record.delay
            record.delay = min(record.delay * 2, self.maxInterval)
        else:
            delay = self.interval
        self._plan(record, delay)

    def stateChanged(self, pool, host, change):
        """
        Someone else (passive ejection, heartbeats, the admin) moved a host:
        count afresh from here.
        """
        record = self._hosts.get(host.name)
        if record is not None and record.host is host:
            if change.new == DOWN:
                record.passes = 0
            elif change.new == UP:
                record.failures = 0
