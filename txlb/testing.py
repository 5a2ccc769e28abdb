"""
Test helpers for users and plugin authors.

C{SchedulerTests} states the contract every scheduler keeps; mix it into a
C{twisted.trial.unittest.SynchronousTestCase} and name your scheduler::

    class MySchedulerTests(SchedulerTests, SynchronousTestCase):
        scheduler = "mine:option=1"
"""

from collections import Counter
from random import Random

from twisted.internet.address import IPv4Address
from twisted.internet.task import Clock
from zope.interface.verify import verifyObject

from txlb.backend import Backend
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
        self.clock = Clock()
        scheduler = makeScheduler(self.scheduler, self.clock, Random(1234))
        scheduler.setHosts(hosts)
        return scheduler

    def open(self, scheduler, host):
        host.open += 1
        host.total += 1
        scheduler.connectionOpened(host)

    def close(self, scheduler, host):
        host.open -= 1
        host.lastClosed = self.clock.seconds()
        scheduler.connectionClosed(host)

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
