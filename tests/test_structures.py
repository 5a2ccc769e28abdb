"""
Property tests (hypothesis) for the schedulers' pure data structures.
"""

from bisect import bisect_left
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from txlb.schedulers._structures import (
    SLICE_WORK,
    CumulativeWeights,
    DeadlineQueue,
    HashRing,
    LazyHeap,
    MaglevTable,
    WeightedList,
    finish,
    hashKey,
    nextPrime,
    ringScale,
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


class WeightedListTests(SynchronousTestCase):
    @settings(max_examples=60, deadline=None)
    @given(
        st.lists(st.integers(1, 9), max_size=200),
        st.lists(st.tuples(st.sampled_from(["insert", "delete", "set"]), st.integers(0, 10**6), st.integers(1, 9))),
    )
    def test_changesInPlace(self, initial, changes):
        """
        After any inserts, deletes and sets (blocks of 64 split as they
        grow), the list holds the same weights as a plain list changed
        alike, and a choice is the same as over cumulative weights.
        """
        weights = WeightedList(initial)
        plain = list(initial)
        for kind, position, weight in changes:
            if kind == "insert":
                position %= len(plain) + 1
                weights.insert(position, weight)
                plain.insert(position, weight)
            elif plain:
                position %= len(plain)
                if kind == "delete":
                    weights.delete(position)
                    del plain[position]
                else:
                    weights.set(position, weight)
                    plain[position] = weight
        self.assertEqual(list(weights), plain)
        self.assertEqual(len(weights), len(plain))
        if plain:
            cumulative = CumulativeWeights(plain)
            for step in range(997):
                uniform = step / 997
                self.assertEqual(weights.choose(uniform), cumulative.choose(uniform))
        else:
            self.assertRaises(IndexError, weights.choose, 0.5)

    def test_badPosition(self):
        """
        A position outside the list is an IndexError.
        """
        weights = WeightedList([1, 2])
        self.assertRaises(IndexError, weights.delete, 2)
        self.assertRaises(IndexError, weights.insert, 3, 1)


class DeadlineQueueTests(SynchronousTestCase):
    @given(st.lists(st.integers(1, 6), min_size=1, max_size=20))
    def test_proportions(self, ws):
        """
        Over ten rounds of the total weight, each item is given in
        proportion to its weight, within one.
        """
        queue = DeadlineQueue((i, i, w) for i, w in enumerate(ws))
        counts = Counter(queue.next() for _ in range(10 * sum(ws)))
        for i, w in enumerate(ws):
            self.assertLessEqual(abs(counts[i] - 10 * w), 1)

    def test_changesInPlace(self):
        """
        A removed item is never given again; an added or reweighted one
        takes its new share from then on.
        """
        queue = DeadlineQueue((i, i, 1) for i in range(4))
        for _ in range(7):
            queue.next()
        queue.remove(0)
        queue.add(4, 4, 2)
        queue.add(1, 1, 3)
        counts = Counter(queue.next() for _ in range(70))
        self.assertEqual(set(counts), {1, 2, 3, 4})
        self.assertEqual([round(counts[i] / 10) for i in (1, 2, 3, 4)], [3, 1, 1, 2])
        self.assertEqual(len(queue), 4)
        self.assertNotIn(0, queue)


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


    def test_scaleInPowersOfTwo(self):
        """
        The points per weight halve from 64 until the ring holds at most
        the maximum.
        """
        self.assertEqual(ringScale(100, 64, 200_000), 64)
        self.assertEqual(ringScale(10_000, 64, 200_000), 16)
        self.assertEqual(ringScale(10**7, 64, 200_000), 1)

    @settings(max_examples=40, deadline=None)
    @given(
        st.lists(st.integers(0, 3), min_size=1, max_size=8),
        st.lists(st.tuples(st.sampled_from(["add", "remove", "reweight"]), st.integers(0, 7), st.integers(0, 3))),
    )
    def test_changesInPlace(self, initial, changes):
        """
        After any additions, removals and reweightings made in place, keys
        resolve as on a ring built from the final members.
        """
        names = [f"host-{i}" for i in range(8)]
        members = {i: w for i, w in enumerate(initial)}
        ring = HashRing([(names[i], w) for i, w in members.items()], owners=list(members))
        for kind, owner, weight in changes:
            if kind == "add" and owner not in members:
                self.assertTrue(ring.add(owner, names[owner], weight))
                members[owner] = weight
            elif kind == "remove" and owner in members:
                self.assertTrue(ring.remove(owner))
                del members[owner]
            elif kind == "reweight" and owner in members:
                self.assertTrue(ring.reweight(owner, weight))
                members[owner] = weight
        fresh = HashRing([(names[i], w) for i, w in members.items()], owners=list(members))
        self.assertEqual(ring.size, fresh.size)
        if fresh.size:
            for k in KEYS[:300]:
                self.assertEqual(ring.resolve(k), fresh.resolve(k))

    def test_scaleChangeRefused(self):
        """
        A change that would change the points per weight is refused (the
        caller builds a new ring) and leaves the ring as it was.
        """
        ring = HashRing([("a", 3000)])
        self.assertEqual(ring.scale, 64)
        self.assertFalse(ring.add("b", "b", 200))
        self.assertFalse(ring.reweight(0, 4000))
        self.assertEqual((ring.size, ring.total), (3000 * 64, 3000))
        self.assertRaises(ValueError, ring.add, "c", "a", 1)

    def test_builtInSteps(self):
        """
        A ring of several slices' points, built in steps and merged, is the
        ring of points sorted by hash.
        """
        hosts = members(100)
        steps = HashRing.building(hosts)
        ring = None
        count = 0
        while ring is None:
            try:
                next(steps)
                count += 1
            except StopIteration as done:
                ring = done.value
        self.assertGreater(count, 2)
        points = sorted((hashKey(f"{name}-{r}"), i) for i, (name, w) in enumerate(hosts) for r in range(w * 64))
        self.assertEqual(ring.size, len(points))
        self.assertEqual([ring.resolve(str(p)) for p in range(50)], [
            points[bisect_left(points, (hashKey(str(p)), -1)) % len(points)][1] for p in range(50)
        ])


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

    def test_builtInSteps(self):
        """
        A table built in steps, none doing more than the slice's work, is
        the table built at once.
        """
        steps = MaglevTable.building(members(30))
        table = finish(steps)
        self.assertEqual(table.table, MaglevTable(members(30)).table)
        count = sum(1 for _ in MaglevTable.building(members(30)))
        self.assertGreater(count, 20_000 // SLICE_WORK)

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
