"""
Every scheduler against the shared contract (txlb.testing.SchedulerTests),
plus what each one promises of its own.
"""

from collections import Counter
from random import Random

from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from txlb.backend import DOWN, UP
from txlb.errors import ConfigError, UnknownScheduler
from txlb.schedulers import knownSchedulers, makeScheduler, schedulerFactory
from txlb.schedulers._structures import MaglevTable
from txlb.testing import WEIGHTS, SchedulerTests, client, makeHosts


def changes(hostCount=6):
    """
    Lists of the changes a pool tells a scheduler of (as
    L{txlb.testing.randomChanges} makes them).
    """
    host = st.integers(0, hostCount - 1)
    return st.lists(
        st.one_of(
            st.tuples(st.just("add"), host, st.sampled_from([UP, DOWN])),
            st.tuples(st.sampled_from(["remove", "up", "down"]), host),
            st.tuples(st.just("weight"), host, st.sampled_from(WEIGHTS)),
        ),
        max_size=30,
    )


def changesProperty():
    """
    The hooks' contract as a hypothesis property: a new test function for
    each test class (hypothesis wants one per class).
    """

    @settings(max_examples=60, deadline=None)
    @given(st.permutations(range(6)), st.integers(0, 6), changes())
    def test_changesProperty(self, order, count, changes):
        """
        After any sequence of changes told through the hooks, picks are
        exactly those of a scheduler given the final members with setHosts:
        only eligible hosts, each to its maxconn, then none.
        """
        self.checkChanges(order[:count], changes)

    return test_changesProperty


class RoundRobinTests(SchedulerTests, SynchronousTestCase):
    scheduler = "roundrobin"
    test_changesProperty = changesProperty()

    def test_smoothOrder(self):
        """
        Weights 5, 1, 1 give nginx's smooth order a a b a c a a.
        """
        scheduler = self.make(makeHosts(5, 1, 1))
        order = "".join(scheduler.pick(None, ()).name for _ in range(14))
        self.assertEqual(order, "aabacaa" * 2)

    def test_plainRotation(self):
        """
        Equal weights rotate in configuration order.
        """
        scheduler = self.make(makeHosts(1, 1, 1))
        self.assertEqual("".join(scheduler.pick(None, ()).name for _ in range(6)), "abcabc")

    def test_exactShares(self):
        """
        Weights 1 and 3 over 400 picks give exactly 100 and 300.
        """
        scheduler = self.make(makeHosts(1, 3))
        counts = Counter(scheduler.pick(None, ()).name for _ in range(400))
        self.assertEqual(counts, {"a": 100, "b": 300})


    def test_manyHostsInPlace(self):
        """
        Past the exact cycle's limit (500 hosts), hosts are added, removed
        and reweighted in place, with no rebuild: the shares follow the new
        weights at once, a removed host gets nothing.
        """
        hosts = makeHosts(*([1] * 502))
        scheduler = self.make(hosts[:501])
        scheduler.hostRemoved(hosts[0])
        hosts[501].effectiveWeight = 3
        scheduler.hostAdded(hosts[501])
        hosts[1].effectiveWeight = 2
        scheduler.weightChanged(hosts[1])
        self.assertEqual(self.clock.getDelayedCalls(), [])
        counts = Counter(scheduler.pick(None, ()) for _ in range(503 * 20))
        self.assertNotIn(hosts[0], counts)
        self.assertTrue(59 <= counts[hosts[501]] <= 61, counts[hosts[501]])
        self.assertTrue(39 <= counts[hosts[1]] <= 41, counts[hosts[1]])
        self.assertTrue(all(19 <= counts[h] <= 21 for h in hosts[2:501]))


class RandomTests(SchedulerTests, SynchronousTestCase):
    scheduler = "random"
    test_changesProperty = changesProperty()


class LeastConnectionsTests(SchedulerTests, SynchronousTestCase):
    scheduler = "leastconns"
    test_changesProperty = changesProperty()
    tolerance = 0.01

    def test_fewestOpen(self):
        """
        With three connections open on a, the next go to b and c.
        """
        a, b, c = hosts = makeHosts(1, 1, 1)
        scheduler = self.make(hosts)
        for _ in range(3):
            self.open(scheduler, a)
        first = scheduler.pick(None, ())
        self.open(scheduler, first)
        second = scheduler.pick(None, ())
        self.assertEqual({first, second}, {b, c})

    def test_tieGoesToLongestIdle(self):
        """
        Among equally loaded hosts, the one whose last connection ended
        longest ago is picked (pythondirector's leastconnsrr).
        """
        a, b = hosts = makeHosts(1, 1)
        scheduler = self.make(hosts)
        self.open(scheduler, a)
        self.clock.advance(1)
        self.close(scheduler, a)
        self.assertIs(scheduler.pick(None, ()), b)
        self.open(scheduler, b)
        self.clock.advance(1)
        self.close(scheduler, b)
        self.assertIs(scheduler.pick(None, ()), a)


class PowerOfTwoTests(SchedulerTests, SynchronousTestCase):
    scheduler = "p2c"
    test_changesProperty = changesProperty()
    tolerance = 0.05


class HashTests(SchedulerTests, SynchronousTestCase):
    scheduler = "hash"
    test_changesProperty = changesProperty()

    def test_sameClientSameHost(self):
        """
        A client address lands on the same host every time.
        """
        scheduler = self.make(makeHosts(1, 1, 1))
        for i in range(50):
            self.assertEqual(len({scheduler.pick(client(i), ()) for _ in range(5)}), 1)

    def test_unavailableWalksOn(self):
        """
        A key whose host is full moves to another host, and back when the
        host has room again.
        """
        hosts = makeHosts(1, 1, 1, maxconn=1)
        scheduler = self.make(hosts)
        home = scheduler.pick(client(7), ())
        self.open(scheduler, home)
        elsewhere = scheduler.pick(client(7), ())
        self.assertIsNot(elsewhere, home)
        self.close(scheduler, home)
        self.assertIs(scheduler.pick(client(7), ()), home)

    def test_boundedLoad(self):
        """
        With load=1.25 no host holds more than 1.25 x its share (rounded
        up) of the open connections, even when every client hashes alike.
        """
        hosts = makeHosts(1, 1, 1, 1)
        scheduler = makeScheduler("hash:load=1.25", Clock(), Random(1))
        scheduler.setHosts(hosts)
        for n in range(1, 101):
            host = scheduler.pick(client(1), ())
            host.open += 1
            scheduler.connectionOpened(host)
            self.assertLessEqual(max(h.open for h in hosts), -(-1.25 * n // 4) + 1)

    def test_changedInPlace(self):
        """
        A host added to the ring takes its points at once (nothing is left
        to run on the clock): picks are those of a new ring.
        """
        hosts = makeHosts(1, 1, 1, 1, 2)
        scheduler = self.make(hosts[:4])
        scheduler.hostAdded(hosts[4])
        hosts[0].effectiveWeight = 3
        scheduler.weightChanged(hosts[0])
        self.assertEqual(self.clock.getDelayedCalls(), [])
        fresh = makeScheduler("hash", Clock(), Random(1))
        fresh.setHosts(hosts)
        for i in range(300):
            self.assertIs(scheduler.pick(client(i), ()), fresh.pick(client(i), ()))

    def test_rebuildInSlices(self):
        """
        A ring too large to build at once is built in slices on the clock;
        meanwhile picks use the last complete ring and answer only with
        eligible hosts; then the new ring is in use.
        """
        hosts = makeHosts(*([1] * 150))
        scheduler = self.make(hosts[:100])
        self.clock.advance(0)
        scheduler.setHosts(hosts[50:])
        self.assertNotEqual(self.clock.getDelayedCalls(), [])
        for i in range(300):
            self.assertIn(scheduler.pick(client(i), ()), hosts[50:])
        self.clock.advance(0)
        fresh = makeScheduler("hash", Clock(), Random(1))
        fresh.setHosts(hosts[50:])
        fresh.clock.advance(0)
        for i in range(300):
            self.assertIs(scheduler.pick(client(i), ()), fresh.pick(client(i), ()))

    def test_badLoad(self):
        """
        A load factor of 1 or less is refused with a sentence.
        """
        e = self.assertRaises(ConfigError, makeScheduler, "hash:load=0.9")
        self.assertIn("load=", str(e))


class BoundedHashTests(SchedulerTests, SynchronousTestCase):
    scheduler = "hash:load=1.25"
    test_changesProperty = changesProperty()


class MaglevTests(SchedulerTests, SynchronousTestCase):
    scheduler = "maglev"
    test_changesProperty = changesProperty()

    def test_sameClientSameHost(self):
        """
        A client address lands on the same host every time.
        """
        scheduler = self.make(makeHosts(1, 1, 1))
        for i in range(50):
            self.assertEqual(len({scheduler.pick(client(i), ()) for _ in range(5)}), 1)


    def test_rebuildInSlices(self):
        """
        Every change builds a new table in slices on the clock; picks made
        meanwhile use the last complete table and answer only with eligible
        hosts; changes made during a rebuild coalesce into one more rebuild;
        then the new table is in use.
        """
        hosts = makeHosts(*([1] * 60))
        scheduler = self.make(hosts[:50])
        self.clock.advance(0)
        built = []
        building = MaglevTable.building
        self.patch(MaglevTable, "building", lambda members: built.append(len(members)) or building(members))
        for host in hosts[50:55]:
            scheduler.hostAdded(host)
        hosts[0].state = DOWN
        scheduler.hostDown(hosts[0])
        hosts[1].effectiveWeight = 0.5
        scheduler.weightChanged(hosts[1])
        self.assertNotEqual(self.clock.getDelayedCalls(), [])
        for i in range(300):
            host = scheduler.pick(client(i), ())
            self.assertIn(host, hosts[1:55])
        self.clock.advance(0)
        self.assertEqual(built, [51, 54])
        fresh = makeScheduler("maglev", Clock(), Random(1))
        fresh.setHosts(hosts[:55])
        fresh.clock.advance(0)
        for i in range(300):
            self.assertIs(scheduler.pick(client(i), ()), fresh.pick(client(i), ()))


class StickyTests(SchedulerTests, SynchronousTestCase):
    scheduler = "sticky:expiry=60"
    test_changesProperty = changesProperty()
    tolerance = 0.01

    def test_returnsAndExpires(self):
        """
        A client returns to its host while its entry lives, even when the
        inner scheduler would choose another; after the expiry it is
        forgotten and the periodic clean-up empties the table.
        """
        a, b = hosts = makeHosts(1, 1)
        scheduler = self.make(hosts)
        home = scheduler.pick(client(1), ())
        self.open(scheduler, home)
        self.assertIs(scheduler.pick(client(1), ()), home)
        self.clock.advance(30)
        self.assertIs(scheduler.pick(client(1), ()), home)
        self.assertEqual(len(scheduler), 1)
        self.clock.advance(61)
        self.assertEqual(len(scheduler), 0)
        self.assertIsNot(scheduler.pick(client(1), ()), home)

    def test_boundedTable(self):
        """
        The table never holds more than its size; the least recently seen
        clients go first.
        """
        scheduler = makeScheduler("sticky:size=10,inner=roundrobin")
        scheduler.setHosts(makeHosts(1, 1))
        for i in range(25):
            scheduler.pick(client(i), ())
        self.assertEqual(len(scheduler), 10)

    def test_unavailableHostMoves(self):
        """
        A client whose host is full is placed elsewhere.
        """
        hosts = makeHosts(1, 1, maxconn=1)
        scheduler = self.make(hosts)
        home = scheduler.pick(client(1), ())
        self.open(scheduler, home)
        self.assertIsNot(scheduler.pick(client(1), ()), home)


class FirstTests(SchedulerTests, SynchronousTestCase):
    scheduler = "first"
    test_changesProperty = changesProperty()
    weighted = False

    def test_fillsInOrder(self):
        """
        Hosts fill in the order listed, each up to its maxconn, and a freed
        slot on an earlier host is used first.
        """
        a, b, c = hosts = makeHosts(1, 1, 1, maxconn=2)
        scheduler = self.make(hosts)
        picked = []
        for _ in range(5):
            host = scheduler.pick(None, ())
            self.open(scheduler, host)
            picked.append(host.name)
        self.assertEqual(picked, ["a", "a", "b", "b", "c"])
        self.close(scheduler, a)
        self.assertIs(scheduler.pick(None, ()), a)


class RegistryTests(SynchronousTestCase):
    def test_aliases(self):
        """
        The old names of pythondirector and txLoadBalancer still work.
        """
        for alias, name in [
            ("leastconnsrr", "leastconns"),
            ("rand", "random"),
            ("roundr", "roundrobin"),
            ("leastc", "leastconns"),
            ("weightr", "roundrobin"),
        ]:
            self.assertEqual(schedulerFactory(alias).name, name)

    def test_unknown(self):
        """
        An unknown name is one sentence listing every known name.
        """
        e = self.assertRaises(UnknownScheduler, makeScheduler, "nosuch")
        self.assertIn("unknown scheduler 'nosuch'; known schedulers: roundrobin, leastconns", str(e))

    def test_badOption(self):
        """
        An unknown option names the scheduler's options.
        """
        e = self.assertRaises(ConfigError, makeScheduler, "sticky:colour=red")
        self.assertIn("scheduler 'sticky' has no option 'colour' (its options: expiry, inner, size)", str(e))

    def test_everyBuiltin(self):
        """
        All eight built-in schedulers are listed with a description.
        """
        names = [name for name, _, description in knownSchedulers() if description]
        for name in ["random", "roundrobin", "leastconns", "p2c", "hash", "maglev", "sticky", "first"]:
            self.assertIn(name, names)
