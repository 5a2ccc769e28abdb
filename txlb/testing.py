"""
Test helpers for users and plugin authors.

C{SchedulerTests} states the contract every scheduler keeps; mix it into a
C{twisted.trial.unittest.SynchronousTestCase} and name your scheduler::

    class MySchedulerTests(SchedulerTests, SynchronousTestCase):
        scheduler = "mine:option=1"

C{randomChanges} makes sequences of the changes a pool tells a scheduler
of, and C{SchedulerTests.checkChanges} checks one (for property tests).
"""

from collections import Counter
from random import Random

from twisted.internet.address import IPv4Address
from twisted.internet.task import Clock
from zope.interface.verify import verifyObject

from txlb.backend import DOWN, UP, Backend
from txlb.errors import NoHostAvailable
from txlb.interfaces import IScheduler
from txlb.schedulers import makeScheduler


def makeHosts(*weights, **options):
    """
    Backends named a, b, c, ... with the given weights (not connectable:
    for scheduler tests).
    """
    return [
        Backend(chr(ord("a") + i), f"127.0.0.{i + 1}:80", None, weight=w, **options)
        for i, w in enumerate(weights)
    ]


def client(i):
    """
    A distinct client address for each C{i}.
    """
    return IPv4Address("TCP", f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}", 40000)


#: The weights L{randomChanges} gives hosts (exact in binary, so that sums
#: do not depend on the order they are added in).
WEIGHTS = (0, 0.5, 1, 2, 3)


def randomChanges(random, count, hostCount):
    """
    C{count} changes a pool may tell a scheduler of, about hosts numbered
    below C{hostCount}: C{("add", i, state)}, C{("remove", i)},
    C{("up", i)}, C{("down", i)} and C{("weight", i, weight)}. Changes about
    hosts that are not members (which a scheduler must ignore) are
    included.

    @param random: a L{random.Random}.
    """
    changes = []
    for _ in range(count):
        kind = random.choice(("add", "add", "remove", "up", "down", "weight", "weight"))
        host = random.randrange(hostCount)
        if kind == "add":
            changes.append((kind, host, random.choice((UP, UP, DOWN))))
        elif kind == "weight":
            changes.append((kind, host, random.choice(WEIGHTS)))
        else:
            changes.append((kind, host))
    return changes


class SchedulerTests:
    """
    The behaviour every scheduler shares. Set C{scheduler} to the spec
    (C{"name:key=value"}); set C{weighted = False} for a scheduler whose
    spread does not follow weights (such as C{first}).
    """

    scheduler = None
    weighted = True
    tolerance = 0.08

    def make(self, hosts):
        """
        A new scheduler on a new clock (C{self.clock}), given C{hosts},
        with what it scheduled on the clock run (a large table may be built
        in slices).
        """
        self.clock = Clock()
        scheduler = makeScheduler(self.scheduler, self.clock, Random(1234))
        scheduler.setHosts(hosts)
        self.clock.advance(0)
        return scheduler

    def open(self, scheduler, host):
        host.open += 1
        host.total += 1
        scheduler.connectionOpened(host)

    def close(self, scheduler, host):
        host.open -= 1
        host.lastClosed = self.clock.seconds()
        scheduler.connectionClosed(host)

    def checkChanges(self, initial, changes, hostCount=6):
        """
        Give a scheduler the hosts numbered C{initial} (in that order) with
        C{setHosts}, tell it of C{changes} (see L{randomChanges}) through
        its hooks, run what it scheduled on its clock, and check that its
        picks are exactly those of a new scheduler (with the same random
        source) given the final members with C{setHosts}: only eligible
        hosts (members that are up with a positive effective weight), each
        taken to its maxconn, then none.
        """
        hosts = makeHosts(*([1] * hostCount), maxconn=2)
        members = [hosts[i] for i in initial]
        scheduler = self.make(members)
        for change in changes:
            kind, host = change[0], hosts[change[1]]
            if kind == "add":
                if host not in members:
                    host.state = change[2]
                    members.append(host)
                    scheduler.hostAdded(host)
            elif kind == "remove":
                if host in members:
                    members.remove(host)
                    scheduler.hostRemoved(host)
            elif kind == "up":
                host.state = UP
                scheduler.hostUp(host)
            elif kind == "down":
                host.state = DOWN
                scheduler.hostDown(host)
            else:
                host.effectiveWeight = change[2]
                scheduler.weightChanged(host)
        self.clock.advance(0)
        eligible = [h for h in members if h.state == UP and h.effectiveWeight > 0]
        freshClock = Clock()
        fresh = makeScheduler(self.scheduler, freshClock, Random(1234))
        fresh.setHosts(members)
        freshClock.advance(0)
        for i in range(2 * len(eligible)):
            got = scheduler.pick(client(i), ())
            self.assertIs(got, fresh.pick(client(i), ()))
            self.assertIn(got, eligible)
            got.open += 1
            scheduler.connectionOpened(got)
            fresh.connectionOpened(got)
        self.assertEqual([h.open for h in eligible], [2] * len(eligible))
        self.assertRaises(NoHostAvailable, scheduler.pick, client(0), ())

    def test_changesMatchSetHosts(self):
        """
        After any sequence of changes told through the hooks (hosts added,
        removed, up, down, reweighted), the scheduler picks exactly as one
        given the final members with setHosts (see L{checkChanges}).
        """
        random = Random(7)
        for _ in range(40):
            initial = random.sample(range(6), random.randint(0, 6))
            self.checkChanges(initial, randomChanges(random, random.randint(0, 25), 6))

    def test_hooksOnly(self):
        """
        A scheduler given no hosts by setHosts learns all it needs from the
        hooks: hosts added down take nothing until they come up, a weight of
        0 takes nothing, a removed host nothing.
        """
        a, b, c = hosts = makeHosts(1, 1, 1)
        scheduler = self.make([])
        self.assertRaises(NoHostAvailable, scheduler.pick, client(1), ())
        b.state = DOWN
        for host in hosts:
            scheduler.hostAdded(host)
        self.clock.advance(0)
        picked = {scheduler.pick(client(i), ()) for i in range(100)}
        self.assertEqual(picked - {a, c}, set())
        b.state = UP
        scheduler.hostUp(b)
        a.effectiveWeight = 0
        scheduler.weightChanged(a)
        scheduler.hostRemoved(c)
        self.clock.advance(0)
        self.assertEqual({scheduler.pick(client(i), ()) for i in range(100)}, {b})

    def test_interface(self):
        """
        The scheduler provides IScheduler.
        """
        verifyObject(IScheduler, self.make(makeHosts(1, 1)))

    def test_onlyAvailable(self):
        """
        A host at its maxconn is never picked while another is available.
        """
        hosts = makeHosts(1, 1, 1)
        hosts[1].maxconn = 1
        scheduler = self.make(hosts)
        self.open(scheduler, hosts[1])
        for i in range(200):
            self.assertIsNot(scheduler.pick(client(i), ()), hosts[1])

    def test_avoidsTried(self):
        """
        A host the connection already tried is not picked again while an
        untried one is available.
        """
        hosts = makeHosts(1, 1, 1)
        scheduler = self.make(hosts)
        for i in range(100):
            first = scheduler.pick(client(i), ())
            second = scheduler.pick(client(i), (first,))
            self.assertIsNot(second, first)
            third = scheduler.pick(client(i), (first, second))
            self.assertNotIn(third, (first, second))

    def test_triedOnlyAsLastResort(self):
        """
        When every available host was tried, one of them is picked rather
        than none.
        """
        hosts = makeHosts(1, 1)
        scheduler = self.make(hosts)
        self.assertIn(scheduler.pick(client(1), tuple(hosts)), hosts)

    def test_nothingAvailable(self):
        """
        No hosts, or only full ones, raise NoHostAvailable.
        """
        self.assertRaises(NoHostAvailable, self.make([]).pick, client(1), ())
        hosts = makeHosts(1, 1, maxconn=1)
        scheduler = self.make(hosts)
        for host in hosts:
            self.open(scheduler, host)
        self.assertRaises(NoHostAvailable, scheduler.pick, client(1), ())

    def test_zeroWeightTakesNothing(self):
        """
        A host of weight 0 takes no new connections.
        """
        hosts = makeHosts(1, 0, 1)
        scheduler = self.make(hosts)
        for i in range(200):
            self.assertIsNot(scheduler.pick(client(i), ()), hosts[1])

    def test_weights(self):
        """
        Over many connections (from many clients, kept open), hosts get
        shares in proportion to their weights, within tolerance.
        """
        if not self.weighted:
            return
        hosts = makeHosts(1, 3)
        scheduler = self.make(hosts)
        counts = Counter()
        picks = 2000
        for i in range(picks):
            host = scheduler.pick(client(i), ())
            self.open(scheduler, host)
            counts[host.name] += 1
        share = counts["b"] / picks
        self.assertTrue(
            abs(share - 0.75) <= self.tolerance,
            f"weight 3 of 4 got a share of {share}, not 0.75 +- {self.tolerance}",
        )

    def test_changeDuringUse(self):
        """
        Hosts can be removed and added while connections run: picks follow
        the new set at once, and events about removed hosts are harmless.
        """
        a, b, c = makeHosts(1, 1, 1)
        scheduler = self.make([a, b])
        held = []
        for i in range(10):
            host = scheduler.pick(client(i), ())
            self.open(scheduler, host)
            held.append(host)
        scheduler.setHosts([b, c])
        for i in range(100):
            self.assertIn(scheduler.pick(client(i), ()), (b, c))
        for host in held:
            self.close(scheduler, host)
        self.assertEqual(a.open + b.open, 0)
