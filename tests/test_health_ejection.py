"""
Passive ejection, the all-down policies and slow start, on a task.Clock.
"""

from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase
from zope.interface.verify import verifyObject

from tests.test_health_checker import makePool
from txlb.errors import NoHostAvailable
from txlb.health import PassiveEjector, SlowStart
from txlb.interfaces import IPoolObserver


class EjectionTests(SynchronousTestCase):
    def setUp(self):
        self.clock = Clock()
        self.pool = makePool(self.clock, ["a", "b", "c", "d"])
        self.ejector = PassiveEjector(self.pool, self.clock, ejectionTime=10.0, maxEjectionTime=25.0)
        self.ejector.startService()
        self.addCleanup(self.ejector.stopService)

    def fail(self, name, times=3):
        for _ in range(times):
            self.pool.connectFailed(self.pool.hosts[name], "connection refused")

    def test_interfaces(self):
        """
        The ejector is an IPoolObserver named ejection:GROUP.
        """
        verifyObject(IPoolObserver, self.ejector)
        self.assertEqual(self.ejector.name, "ejection:g")

    def test_ejects(self):
        """
        Three consecutive connect failures eject a host, saying why and for
        how long.
        """
        a = self.pool.hosts["a"]
        self.fail("a", 2)
        self.assertEqual(a.state, "up")
        self.fail("a", 1)
        self.assertEqual(a.state, "down")
        self.assertEqual(
            a.history[-1].reason, "ejected for 10 s after 3 connect failures: connection refused"
        )
        self.assertEqual(self.ejector.ejectedUntil("a"), 10.0)

    def test_successResets(self):
        """
        A successful connection starts the count again.
        """
        self.fail("a", 2)
        self.pool.connectSucceeded(self.pool.hosts["a"])
        self.fail("a", 2)
        self.assertEqual(self.pool.hosts["a"].state, "up")

    def test_returnsAndGrows(self):
        """
        With checks off an ejected host returns after its ejection time,
        and each further ejection lasts longer, up to the maximum.
        """
        a = self.pool.hosts["a"]
        durations = []
        for _ in range(3):
            self.fail("a")
            durations.append(self.ejector.ejectedUntil("a") - self.clock.seconds())
            self.clock.advance(durations[-1])
            self.assertEqual(a.state, "up")
            self.assertEqual(a.history[-1].reason, "ejection time over")
        self.assertEqual(durations, [10.0, 20.0, 25.0])

    def test_countForgotten(self):
        """
        A host that stayed in for the maximum ejection time starts again
        from the first ejection time.
        """
        self.fail("a")
        self.clock.advance(10.0)
        self.clock.advance(25.0)
        self.fail("a")
        self.assertEqual(self.ejector.ejectedUntil("a") - self.clock.seconds(), 10.0)

    def test_maxShare(self):
        """
        At most half the group is ejected at once.
        """
        for name in "abc":
            self.fail(name)
        states = [self.pool.hosts[n].state for n in "abcd"]
        self.assertEqual(states, ["down", "down", "up", "up"])

    def test_checkerBringsBack(self):
        """
        With checks on, the ejection ending does not bring the host back.
        """
        self.ejector.returnHosts = False
        self.fail("a")
        self.clock.advance(10.0)
        self.assertEqual(self.pool.hosts["a"].state, "down")
        self.assertIsNone(self.ejector.ejectedUntil("a"))


class AllDownTests(SynchronousTestCase):
    def setUp(self):
        self.clock = Clock()
        self.pool = makePool(self.clock, ["a", "b", "c"])
        for host in self.pool.hosts.values():
            self.pool.setState(host, "down", "test")

    def test_refuse(self):
        """
        By default a group with no host up refuses.
        """
        self.assertRaises(NoHostAvailable, self.pool.pick, None)

    def test_panic(self):
        """
        With panic, the down hosts are used in turn, skipping those tried and
        those in maintenance.
        """
        self.pool.allDown = "panic"
        self.pool.setState(self.pool.hosts["c"], "maint", "admin")
        picks = [self.pool.pick(None).name for _ in range(4)]
        self.assertEqual(picks, ["a", "b", "a", "b"])
        self.assertEqual(self.pool.pick(None, (self.pool.hosts["a"],)).name, "b")
        tried = (self.pool.hosts["a"], self.pool.hosts["b"])
        self.assertRaises(NoHostAvailable, self.pool.pick, None, tried)

    def test_panicOnlyWhenAllDown(self):
        """
        While a host is up, panic changes nothing.
        """
        self.pool.allDown = "panic"
        self.pool.setState(self.pool.hosts["b"], "up", "test")
        self.assertEqual({self.pool.pick(None).name for _ in range(4)}, {"b"})


class SlowStartTests(SynchronousTestCase):
    def test_ramp(self):
        """
        A host coming back ramps from a tenth of its weight to all of it
        over the slow-start time; a host that never went down is untouched.
        """
        clock = Clock()
        pool = makePool(clock, ["a", "b"])
        a = pool.hosts["a"]
        pool.setWeight("a", 10)
        slow = SlowStart(pool, clock, 10.0)
        slow.startService()
        pool.setState(a, "down", "test")
        pool.setState(a, "up", "test")
        weights = [a.effectiveWeight]
        for _ in range(10):
            clock.advance(1.0)
            weights.append(a.effectiveWeight)
        self.assertEqual(weights, [1.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10])
        self.assertEqual(pool.hosts["b"].effectiveWeight, 1)
        self.assertEqual(clock.getDelayedCalls(), [])
        slow.stopService()

    def test_downDuringRamp(self):
        """
        A host going down during its ramp gets its full weight back and the
        ramp stops.
        """
        clock = Clock()
        pool = makePool(clock, ["a"])
        a = pool.hosts["a"]
        slow = SlowStart(pool, clock, 10.0)
        slow.startService()
        pool.setState(a, "down", "test")
        pool.setState(a, "up", "test")
        clock.advance(3.0)
        pool.setState(a, "down", "test")
        self.assertEqual(a.effectiveWeight, 1)
        self.assertEqual(clock.getDelayedCalls(), [])
        slow.stopService()
