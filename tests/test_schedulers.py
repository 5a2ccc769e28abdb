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

    def test_badLoad(self):
        """
        A load factor of 1 or less is refused with a sentence.
        """
        e = self.assertRaises(ConfigError, makeScheduler, "hash:load=0.9")
        self.assertIn("load=", str(e))


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
