"""
SlicedRebuild: building a structure one step per turn of the clock, with
requests made meanwhile coalesced.
"""

from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from txlb.schedulers._sliced import SlicedRebuild


class Counting:
    """
    Builders of C{"v<version>"} in C{steps} steps each, from a state that
    tests change at will; each start and install recorded.
    """

    def __init__(self, steps):
        self.steps = steps
        self.version = 0
        self.started = []
        self.installed = []

    def start(self):
        self.started.append(self.version)
        return self._build(self.version)

    def _build(self, version):
        for _ in range(self.steps - 1):
            yield
        return f"v{version}"

    def install(self, value):
        self.installed.append(value)


def turn(clock):
    """
    One turn of C{clock}: run the calls that were due before it started
    (not those they schedule).
    """
    for call in [c for c in clock.getDelayedCalls() if c.getTime() <= clock.seconds()]:
        clock.calls.remove(call)
        call.func(*call.args, **call.kw)


class SlicedRebuildTests(SynchronousTestCase):
    def make(self, steps):
        self.clock = Clock()
        self.builds = Counting(steps)
        return SlicedRebuild(self.clock, self.builds.start, self.builds.install)

    def test_smallAtOnce(self):
        """
        A builder done in one step is installed before request returns,
        with nothing left on the clock.
        """
        rebuild = self.make(1)
        rebuild.request()
        self.assertEqual(self.builds.installed, ["v0"])
        self.assertFalse(rebuild.busy)
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_oneStepPerTurn(self):
        """
        A builder of five steps runs one step at once and one per turn of
        the clock; it is installed after the fifth, not before.
        """
        rebuild = self.make(5)
        rebuild.request()
        for _ in range(3):
            self.assertEqual(len(self.clock.getDelayedCalls()), 1)
            turn(self.clock)
            self.assertEqual(self.builds.installed, [])
        self.assertTrue(rebuild.busy)
        turn(self.clock)
        self.assertEqual(self.builds.installed, ["v0"])
        self.assertFalse(rebuild.busy)

    def test_coalesced(self):
        """
        Requests made while a rebuild runs do not abandon it; they become
        one more rebuild, from the state when the first completes.
        """
        rebuild = self.make(4)
        rebuild.request()
        for version in (1, 2, 3):
            self.builds.version = version
            rebuild.request()
        self.clock.advance(0)
        self.assertEqual(self.builds.started, [0, 3])
        self.assertEqual(self.builds.installed, ["v0", "v3"])
        self.assertFalse(rebuild.busy)

    def test_requestAfterInstall(self):
        """
        A request after a rebuild completed starts a new one at once.
        """
        rebuild = self.make(1)
        rebuild.request()
        self.builds.version = 1
        rebuild.request()
        self.assertEqual(self.builds.installed, ["v0", "v1"])

    def test_noClock(self):
        """
        Without a clock, a rebuild runs to its end at once.
        """
        builds = Counting(10)
        SlicedRebuild(None, builds.start, builds.install).request()
        self.assertEqual(builds.installed, ["v0"])

    def test_cancel(self):
        """
        A cancelled rebuild installs nothing and leaves nothing on the clock.
        """
        rebuild = self.make(3)
        rebuild.request()
        rebuild.request()
        rebuild.cancel()
        self.assertEqual(self.clock.getDelayedCalls(), [])
        self.clock.advance(0)
        self.assertEqual(self.builds.installed, [])
        self.assertFalse(rebuild.busy)

    def test_failedBuilder(self):
        """
        A builder that raises is dropped (the error reaches the caller of
        that step); the next request starts a new rebuild.
        """
        clock = Clock()
        failures = [ValueError("a member was added twice")]

        def start():
            yield
            if failures:
                raise failures.pop()
            return "built"

        installed = []
        rebuild = SlicedRebuild(clock, start, installed.append)
        rebuild.request()
        self.assertRaises(ValueError, clock.advance, 0)
        self.assertFalse(rebuild.busy)
        rebuild.request()
        clock.advance(0)
        self.assertEqual(installed, ["built"])
