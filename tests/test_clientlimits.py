"""
Unit tests for L{txlb.clientlimits}: connections open and opened per
second by one client address, in a table of bounded size.
"""

from collections import defaultdict

from hypothesis import given
from hypothesis import strategies as st
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from txlb.clientlimits import MAX_CLIENT_CONNS, MAX_CLIENT_RATE, WINDOW, ClientTable


class ConcurrencyTests(SynchronousTestCase):
    def test_capPerAddress(self):
        """
        An address may hold C{maxConns} connections; one more is refused
        until one ends. Other addresses are not affected.
        """
        table = ClientTable(Clock(), maxConns=2)
        self.assertEqual([table.admit("a"), table.admit("a")], [None, None])
        self.assertEqual(table.admit("a"), MAX_CLIENT_CONNS)
        self.assertIsNone(table.admit("b"))
        table.release("a")
        self.assertIsNone(table.admit("a"))
        self.assertEqual(table.openFor("a"), 2)

    def test_forgetsClosedAddresses(self):
        """
        Without a rate, an address with nothing open leaves the table.
        """
        table = ClientTable(Clock(), maxConns=1)
        table.admit("a")
        table.release("a")
        self.assertEqual(len(table), 0)

    def test_releaseUnknown(self):
        """
        Releasing an address that holds nothing changes nothing.
        """
        table = ClientTable(Clock(), maxConns=1)
        table.release("a")
        self.assertEqual(len(table), 0)


class RateTests(SynchronousTestCase):
    def test_slidingWindow(self):
        """
        An address may open C{maxRate} connections in any second; the next
        is allowed once the oldest of them is a second old.
        """
        clock = Clock()
        table = ClientTable(clock, maxRate=2)
        self.assertIsNone(table.admit("a"))
        clock.advance(0.5)
        self.assertIsNone(table.admit("a"))
        self.assertEqual(table.admit("a"), MAX_CLIENT_RATE)
        clock.advance(0.5)
        self.assertIsNone(table.admit("a"))
        self.assertEqual(table.admit("a"), MAX_CLIENT_RATE)

    def test_refusalsDoNotCount(self):
        """
        Refused attempts do not push the window forward.
        """
        clock = Clock()
        table = ClientTable(clock, maxRate=1)
        table.admit("a")
        for _ in range(10):
            clock.advance(0.05)
            self.assertEqual(table.admit("a"), MAX_CLIENT_RATE)
        clock.advance(0.5)
        self.assertIsNone(table.admit("a"))

    def test_idleEntriesExpire(self):
        """
        An address with nothing open is forgotten a second after its last
        connection.
        """
        clock = Clock()
        table = ClientTable(clock, maxRate=5)
        table.admit("a")
        table.release("a")
        self.assertEqual(len(table), 1)
        clock.advance(WINDOW)
        table.admit("b")
        self.assertEqual(len(table), 1)

    def test_capacityEvictsOldestIdle(self):
        """
        Past C{capacity} idle entries, the one idle longest is evicted (its
        address is not rate limited for the rest of that second); entries
        with connections open are kept.
        """
        clock = Clock()
        table = ClientTable(clock, maxRate=1, capacity=2)
        table.admit("held")
        for key in "abc":
            table.admit(key)
            table.release(key)
        self.assertEqual((len(table), table.evicted), (3, 1))
        self.assertIsNone(table.admit("a"))
        self.assertEqual(table.admit("b"), MAX_CLIENT_RATE)
        self.assertEqual(table.admit("held"), MAX_CLIENT_RATE)

    def test_setLimits(self):
        """
        Changing the limits keeps what is open counted and the latest
        admission times within the new rate.
        """
        clock = Clock()
        table = ClientTable(clock, maxConns=1, maxRate=3)
        table.admit("a")
        table.admit("b")
        table.release("b")
        table.setLimits(2, 1)
        self.assertEqual(table.admit("a"), MAX_CLIENT_RATE)
        self.assertEqual(table.admit("b"), MAX_CLIENT_RATE)
        clock.advance(WINDOW)
        self.assertIsNone(table.admit("a"))
        self.assertEqual(table.openFor("a"), 2)
        table.setLimits(2, None)
        self.assertEqual(table.admit("a"), MAX_CLIENT_CONNS)
        self.assertIsNone(table.admit("c"))

    @given(
        st.integers(min_value=1, max_value=5),
        st.lists(
            st.tuples(st.floats(min_value=0, max_value=0.7), st.sampled_from("abc")),
            max_size=60,
        ),
    )
    def test_neverMoreThanRateInAnySecond(self, rate, arrivals):
        """
        Against a model that keeps every admission: an arrival is admitted
        exactly when fewer than C{rate} admissions of its address fall in
        the second before it.
        """
        clock = Clock()
        table = ClientTable(clock, maxRate=rate)
        admitted = defaultdict(list)
        for delay, key in arrivals:
            clock.advance(delay)
            now = clock.seconds()
            recent = [t for t in admitted[key] if t > now - WINDOW]
            expected = None if len(recent) < rate else MAX_CLIENT_RATE
            outcome = table.admit(key)
            self.assertEqual(outcome, expected)
            if outcome is None:
                admitted[key].append(now)
                table.release(key)
