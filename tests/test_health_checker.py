"""
The per-group checker: rise, fall, back-off, jitter and what it records,
on a task.Clock with a scripted check.
"""

import random

from twisted.application.service import IService
from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase
from zope.interface import implementer
from zope.interface.verify import verifyObject

from txlb.backend import Backend
from txlb.health import CheckFailed, HealthChecker
from txlb.interfaces import ICheck, IPoolObserver
from txlb.pool import Pool
from txlb.schedulers import makeScheduler


@implementer(ICheck)
class ScriptedCheck:
    """
    A check whose verdict per host the test sets: True, a reason, or
    "hang" for a check that never answers.
    """

    description = "scripted"

    def __init__(self):
        self.verdicts = {}
        self.calls = []

    def check(self, host, timeout):
        self.calls.append(host.name)
        verdict = self.verdicts.get(host.name, True)
        if verdict is True:
            return succeed(None)
        if verdict == "raise":
            raise RuntimeError("plugin bug")
        if verdict == "hang":
            return Deferred(lambda d: d.errback(CheckFailed("timed out")))
        return fail(CheckFailed(verdict))


def makePool(clock, names=("a", "b")):
    pool = Pool("g", lambda: makeScheduler("roundrobin", clock), "roundrobin", clock)
    for name in names:
        pool.addHost(Backend(name, f"127.0.0.1:{8000 + len(pool.hosts)}", None))
    return pool


class CheckerTests(SynchronousTestCase):
    def setUp(self):
        self.clock = Clock()
        self.pool = makePool(self.clock)
        self.check = ScriptedCheck()
        self.checker = HealthChecker(
            self.pool, self.check, self.clock, random.Random(1),
            interval=1.0, timeout=0.5, rise=2, fall=2, jitter=0.0,
        )
        self.checker.startService()
        self.addCleanup(self._stop)

    def _stop(self):
        if self.checker.running:
            self.checker.stopService()

    def advance(self, seconds, step=0.05):
        for _ in range(int(round(seconds / step))):
            self.clock.advance(step)

    def test_interfaces(self):
        """
        The checker is an IService and an IPoolObserver named health:GROUP.
        """
        verifyObject(IService, self.checker)
        verifyObject(IPoolObserver, self.checker)
        self.assertEqual(self.checker.name, "health:g")

    def test_firstChecksSpread(self):
        """
        The first check of each host falls within the first interval.
        """
        self.advance(1.0)
        self.assertEqual(sorted(self.check.calls), ["a", "b"])

    def test_fall(self):
        """
        After `fall` failed checks an up host goes down, with the reason in
        its history; the fault count grows with each failure.
        """
        self.check.verdicts["a"] = "connection refused"
        self.advance(1.0)
        a = self.pool.hosts["a"]
        self.assertEqual(a.state, "up")
        self.advance(1.0)
        self.assertEqual(a.state, "down")
        self.assertEqual(
            a.history[-1].reason, "2 checks failed (scripted): connection refused"
        )
        status = self.checker.status("a")
        self.assertEqual((status.faults, status.failures, status.lastResult),
                         (2, 2, "connection refused"))
        self.assertEqual(self.pool.hosts["b"].state, "up")

    def test_rise(self):
        """
        A down host comes back only after `rise` passed checks.
        """
        a = self.pool.hosts["a"]
        self.pool.setState(a, "down", "test")
        self.advance(1.0)
        self.assertEqual(a.state, "down")
        self.advance(1.0)
        self.assertEqual(a.state, "up")
        self.assertEqual(a.history[-1].reason, "2 checks passed (scripted)")

    def test_backoff(self):
        """
        A down host that keeps failing is checked at doubling intervals (1,
        2, 4) up to four intervals, and at the plain interval again once it passes.
        """
        self.check.verdicts["a"] = "refused"
        self.advance(2.0)
        times = []
        for _ in range(4):
            self.clock.advance(self.checker.status("a").nextCheck - self.clock.seconds())
            times.append(round(self.checker.status("a").nextCheck - self.clock.seconds(), 2))
        self.assertEqual(times, [2.0, 4.0, 4.0, 4.0])
        self.check.verdicts["a"] = True
        self.clock.advance(self.checker.status("a").nextCheck - self.clock.seconds())
        self.assertEqual(
            round(self.checker.status("a").nextCheck - self.clock.seconds(), 2), 1.0
        )

    def test_nextCheckRecorded(self):
        """
        Every host has its next check time recorded for the admin.
        """
        statuses = self.checker.statuses()
        self.assertEqual(sorted(statuses), ["a", "b"])
        for status in statuses.values():
            self.assertTrue(0 <= status.nextCheck <= 1.0)

    def test_timeout(self):
        """
        A check that does not answer within the timeout fails as timed out.
        """
        self.check.verdicts["a"] = "hang"
        self.advance(3.1)
        self.assertEqual(self.checker.status("a").lastResult, "timed out")
        self.assertEqual(self.checker.status("a").faults, 2)

    def test_brokenCheck(self):
        """
        A check that raises counts as failed and checking goes on.
        """
        self.check.verdicts["a"] = "raise"
        self.advance(3.1)
        self.assertEqual(self.checker.status("a").lastResult, "plugin bug")
        self.assertEqual(self.pool.hosts["a"].state, "down")

    def test_adminStatesLeftAlone(self):
        """
        A host in maintenance is checked but never moved by the checker.
        """
        a = self.pool.hosts["a"]
        self.pool.setState(a, "maint", "admin")
        self.check.verdicts["a"] = "refused"
        self.advance(3.0)
        self.assertEqual(a.state, "maint")
        self.check.verdicts["a"] = True
        self.advance(3.0)
        self.assertEqual(a.state, "maint")

    def test_newAndRemovedHosts(self):
        """
        Hosts added to the pool are checked from the next interval on; removed
        ones are forgotten.
        """
        self.pool.addHost(Backend("c", "127.0.0.1:9000", None))
        self.pool.removeHost("a")
        self.advance(3.0)
        self.assertIn("c", self.check.calls)
        self.assertEqual(sorted(self.checker.statuses()), ["b", "c"])

    def test_stopCancelsEverything(self):
        """
        Stopping the checker leaves no timer behind and stops observing.
        """
        self.check.verdicts["a"] = "hang"
        self.advance(1.0)
        self.checker.stopService()
        self.assertEqual(self.clock.getDelayedCalls(), [])
        self.assertNotIn(self.checker, self.pool._observers)

    def test_othersResetCounts(self):
        """
        A host taken down by someone else needs `rise` fresh passes.
        """
        self.advance(3.0)
        a = self.pool.hosts["a"]
        self.pool.setState(a, "down", "ejected")
        self.assertEqual(self.checker.status("a").passes, 0)


class JitterTests(SynchronousTestCase):
    def test_spread(self):
        """
        With jitter 0.5 the delays between checks vary within +-50 % of the
        interval.
        """
        clock = Clock()
        pool = makePool(clock, ["a"])
        checker = HealthChecker(
            pool, ScriptedCheck(), clock, random.Random(7), interval=1.0, jitter=0.5
        )
        checker.startService()
        delays = []
        for _ in range(30):
            due = checker.status("a").nextCheck
            delays.append(due - clock.seconds())
            clock.advance(due - clock.seconds())
        checker.stopService()
        self.assertTrue(all(0.5 <= d <= 1.5 for d in delays[1:]), delays)
        self.assertGreater(max(delays) - min(delays), 0.3)
