"""
Property tests (hypothesis) for the schedulers' pure data structures.
"""

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from txlb.schedulers._structures import (
    CumulativeWeights,
    HashRing,
    LazyHeap,
    MaglevTable,
    nextPrime,
    smoothSequence,
)

weights = st.lists(st.integers(min_value=1, max_value=20), min_size=1, max_size=12)
KEYS = [f"10.0.{i // 256}.{i % 256}" for i in range(3000)]


def members(count, weight=1):
    return [(f"host-{i}", weight) for i in range(count)]


class SmoothSequenceTests(SynchronousTestCase):
    @given(weights)
    def test_proportions(self, ws):
        """
        One cycle holds each index in proportion to its weight (reduced by
        the weights' common divisor).
        """
        sequence = smoothSequence(ws)
        counts = Counter(sequence)
        total = sum(ws)
        for i, w in enumerate(ws):
            self.assertEqual(counts[i] * total, w * len(sequence))

    @given(weights)
    def test_smooth(self, ws):
        """
        No index waits much longer than its fair interval: between two of
        its turns, at most twice total/weight steps pass (cyclically).
        """
        sequence = smoothSequence(ws)
        length = len(sequence)
        for i in set(sequence):
            positions = [p for p, x in enumerate(sequence) if x == i]
            gaps = [(b - a) for a, b in zip(positions, positions[1:] + [positions[0] + length])]
            self.assertLessEqual(max(gaps), 2 * length / len(positions) + 1e-9)

    def test_large(self):
        """
        Beyond the exact limit an EDF order of the same proportions is used.
        """
        sequence = smoothSequence([1] * 5000 + [2] * 5000)
        counts = Counter(sequence)
        self.assertEqual((counts[0], counts[9999]), (1, 2))


class CumulativeWeightsTests(SynchronousTestCase):
    @given(st.lists(st.integers(min_value=0, max_value=5), min_size=1), st.floats(0, 0.999999))
    def test_choosesWeighted(self, ws, u):
        """
        A draw never lands on a zero weight when some weight is positive.
        """
        if not any(ws):
            return
        self.assertGreater(ws[CumulativeWeights(ws).choose(u)], 0)


class HashRingTests(SynchronousTestCase):
    def test_emptyAndDuplicate(self):
        """
        An empty ring and a member added twice are clear errors.
        """
        self.assertRaises(IndexError, HashRing([]).resolve, "k")
        self.assertRaises(ValueError, HashRing, [("a", 1), ("a", 1)])

    @settings(max_examples=20, deadline=None)
    @given(st.integers(min_value=2, max_value=12))
    def test_addMovesAFraction(self, n):
        """
        Adding one member to n moves about 1/(n+1) of keys, all to it.
        """
        before = HashRing(members(n))
        after = HashRing(members(n + 1))
        moved = [k for k in KEYS if before.resolve(k) != after.resolve(k)]
        self.assertTrue(all(after.resolve(k) == n for k in moved))
        self.assertLessEqual(len(moved) / len(KEYS), 1 / (n + 1) + 0.08)

    @settings(max_examples=20, deadline=None)
    @given(st.integers(min_value=3, max_value=12), st.data())
    def test_removeMovesOnlyItsKeys(self, n, data):
        """
        Removing a member moves only the keys it held.
        """
        gone = data.draw(st.integers(min_value=0, max_value=n - 1))
        full = members(n)
        before = HashRing(full)
        rest = [m for i, m in enumerate(full) if i != gone]
        after = HashRing(rest)
        for k in KEYS[:500]:
            old = full[before.resolve(k)][0]
            if old != f"host-{gone}":
                self.assertEqual(rest[after.resolve(k)][0], old)

    def test_capacities(self):
        """
        A member of weight 2 holds about twice the keys of one of weight 1.
        """
        ring = HashRing([("a", 1), ("b", 2)])
        share = Counter(ring.resolve(k) for k in KEYS)[1] / len(KEYS)
        self.assertTrue(0.58 < share < 0.75, share)


class MaglevTests(SynchronousTestCase):
    def test_primeSize(self):
        """
        The table size is a prime above 100 entries per member.
        """
        table = MaglevTable(members(50))
        self.assertEqual(table.size, nextPrime(table.size))
        self.assertGreater(table.size, 100 * 50)
        self.assertTrue(all(x >= 0 for x in table.table))

    @settings(max_examples=15, deadline=None)
    @given(st.integers(min_value=2, max_value=10))
    def test_addMovesAFraction(self, n):
        """
        Adding one member to n moves about 1/(n+1) of keys (plus a small
        margin, as Maglev trades a little disruption for balance).
        """
        before = MaglevTable(members(n))
        after = MaglevTable(members(n + 1))
        moved = sum(1 for k in KEYS if before.lookup(k) != after.lookup(k))
        self.assertLessEqual(moved / len(KEYS), 1 / (n + 1) + 0.06)

    @settings(max_examples=15, deadline=None)
    @given(st.integers(min_value=3, max_value=10))
    def test_removeMovesLittleElse(self, n):
        """
        Removing the last member moves its keys and few others.
        """
        full = members(n)
        before = MaglevTable(full)
        after = MaglevTable(full[:-1])
        others = [k for k in KEYS if before.lookup(k) != n - 1]
        moved = sum(1 for k in others if before.lookup(k) != after.lookup(k))
        self.assertLessEqual(moved / len(others), 0.05)

    def test_weights(self):
        """
        Table entries follow the weights.
        """
        counts = Counter(MaglevTable([("a", 1), ("b", 3)]).table)
        self.assertAlmostEqual(counts[1] / sum(counts.values()), 0.75, places=2)


class LazyHeapTests(SynchronousTestCase):
    @given(st.lists(st.tuples(st.integers(0, 20), st.integers(0, 100))))
    def test_smallestFollowsUpdates(self, updates):
        """
        After any sequence of key changes, smallest() gives the live items
        in key order and leaves the heap as it was; peek() gives the first.
        """
        heap, keys = LazyHeap(), {}
        for item, key in updates:
            heap.set(item, key)
            keys[item] = key
        expected = sorted(keys, key=lambda i: keys[i])
        got = heap.smallest(len(keys) + 1)
        self.assertEqual([keys[i] for i in got], [keys[i] for i in expected])
        self.assertEqual(heap.smallest(len(keys) + 1), got)
        self.assertIs(heap.peek(), got[0] if got else None)
