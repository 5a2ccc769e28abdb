"""
Pure data structures behind the schedulers: no Twisted, no hosts, only
indexes and weights. Each is built once per membership change and answers
a lookup in O(1) or O(log n).
"""

import hashlib
from bisect import bisect_left, bisect_right
from functools import reduce
from heapq import heapify, heappop, heappush
from itertools import accumulate
from math import gcd

#: Above this many entries the exact nginx sequence is too costly to build;
#: an earliest-deadline-first order (as Envoy uses) replaces it.
SMOOTH_EXACT_LIMIT = 200_000


def hashKey(key):
    """
    A well-mixed 64-bit hash of a string.
    """
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "big")


def smoothSequence(weights):
    """
    One cycle of smooth weighted round robin over C{weights} (a list of
    positive integers), as indexes: nginx's order, so weights 5, 1, 1 give
    0 0 1 0 2 0 0. Weights are reduced by their greatest common divisor.
    Past L{SMOOTH_EXACT_LIMIT} steps of work an EDF order of the same
    proportions is built instead, in O(W log n).
    """
    if not weights:
        return []
    divisor = reduce(gcd, weights)
    weights = [w // divisor for w in weights]
    total = sum(weights)
    if total * len(weights) > SMOOTH_EXACT_LIMIT:
        return _edfSequence(weights, total)
    current = [0] * len(weights)
    sequence = []
    indexes = range(len(weights))
    for _ in range(total):
        best = 0
        for i in indexes:
            current[i] += weights[i]
            if current[i] > current[best]:
                best = i
        current[best] -= total
        sequence.append(best)
    return sequence


def _edfSequence(weights, total):
    heap = [(1.0 / w, i) for i, w in enumerate(weights)]
    heapify(heap)
    sequence = []
    for _ in range(total):
        deadline, i = heappop(heap)
        sequence.append(i)
        heappush(heap, (deadline + 1.0 / weights[i], i))
    return sequence


class CumulativeWeights:
    """
    Weighted random choice by bisection over cumulative weights.
    """

    __slots__ = ("_cumulative", "total")

    def __init__(self, weights):
        self._cumulative = list(accumulate(weights))
        self.total = self._cumulative[-1] if self._cumulative else 0

    def choose(self, uniform):
        """
        Map C{uniform}, a float in [0, 1), to an index with probability
        proportional to its weight.
        """
        return bisect_right(self._cumulative, uniform * self.total)


class HashRing:
    """
    A consistent-hash ring with capacities (python-continuum's semantics):
    each member gets points in proportion to its weight; a key resolves to
    the member of the next point clockwise, wrapping round.

    @ivar size: the number of points.
    """

    __slots__ = ("_points", "_owners", "size")

    def __init__(self, members, pointsPerWeight=64, maxPoints=200_000):
        """
        @param members: C{(name, weight)} pairs; names unique, weights >= 0.
        @raise ValueError: for a duplicate name.
        """
        names = [name for name, _ in members]
        if len(set(names)) != len(names):
            raise ValueError("a member was added twice")
        totalWeight = sum(weight for _, weight in members)
        scale = pointsPerWeight
        if totalWeight * scale > maxPoints:
            scale = max(1, maxPoints // max(totalWeight, 1))
        points = []
        for index, (name, weight) in enumerate(members):
            for replica in range(weight * scale):
                points.append((hashKey(f"{name}-{replica}"), index))
        points.sort()
        self._points = [p for p, _ in points]
        self._owners = [i for _, i in points]
        self.size = len(points)

    def walk(self, key):
        """
        The member indexes from C{key}'s point clockwise, one per point,
        wrapping round once.

        @raise IndexError: when the ring is empty.
        """
        if not self.size:
            raise IndexError("empty continuum")
        start = bisect_left(self._points, hashKey(key)) % self.size
        owners = self._owners
        for offset in range(self.size):
            yield owners[(start + offset) % self.size]

    def resolve(self, key):
        """
        The member index C{key} belongs to.

        @raise IndexError: when the ring is empty.
        """
        return next(self.walk(key))


def nextPrime(n):
    """
    The smallest prime >= C{n}.
    """
    candidate = max(2, n)
    while True:
        if candidate < 4 or (candidate % 2 and all(candidate % d for d in range(3, int(candidate**0.5) + 1, 2))):
            return candidate
        candidate += 1


#: Maglev table sizes: primes roughly doubling. A table takes the first tier
#: with more than 100 entries per member, so that adding or removing a member
#: keeps the size (and so every other key's slot) unless a tier is crossed.
MAGLEV_SIZES = (5003, 10007, 20011, 40009, 80021, 160001, 320009, 640007, 1280023, 2560021)


def maglevSize(count):
    """
    The table size for C{count} members: the first of L{MAGLEV_SIZES} with
    more than 100 entries per member (or a prime above that for more).
    """
    for size in MAGLEV_SIZES:
        if size > 100 * count:
            return size
    return nextPrime(101 * count)


class MaglevTable:
    """
    Google's Maglev lookup table, weighted: each member fills table entries
    in turn along its own permutation, in proportion to its weight.
    Changing the members moves few entries.
    """

    __slots__ = ("table", "size")

    def __init__(self, members, minimumSize=None):
        """
        @param members: C{(name, weight)} pairs, weights > 0.
        @param minimumSize: the table is the smallest prime at least this
            large (default: L{maglevSize}).
        """
        count = len(members)
        self.size = nextPrime(minimumSize) if minimumSize else maglevSize(count)
        self.table = []
        if not count:
            return
        size = self.size
        offsets, skips = [], []
        for name, _ in members:
            h = hashKey(name)
            offsets.append(h % size)
            skips.append((h >> 32) % (size - 1) + 1)
        maxWeight = max(w for _, w in members)
        nexts = [0] * count
        credit = [0.0] * count
        table = [-1] * size
        filled = 0
        while True:
            for i in range(count):
                credit[i] += members[i][1] / maxWeight
                if credit[i] < 1:
                    continue
                credit[i] -= 1
                offset, skip = offsets[i], skips[i]
                j = nexts[i]
                slot = (offset + j * skip) % size
                while table[slot] >= 0:
                    j += 1
                    slot = (offset + j * skip) % size
                nexts[i] = j + 1
                table[slot] = i
                filled += 1
                if filled == size:
                    self.table = table
                    return

    def lookup(self, key):
        """
        The member index for C{key}.

        @raise IndexError: when the table is empty.
        """
        if not self.table:
            raise IndexError("empty table")
        return self.table[hashKey(key) % self.size]

    def walk(self, key):
        """
        C{key}'s member index, then those of the following entries.
        """
        if not self.table:
            raise IndexError("empty table")
        start = hashKey(key) % self.size
        for offset in range(self.size):
            yield self.table[(start + offset) % self.size]


class LazyHeap:
    """
    A min-heap of C{(key, item)} where an item's key may change: a change
    pushes a new entry, and stale ones are dropped as they surface. The heap
    is compacted when stale entries outnumber live ones.
    """

    __slots__ = ("_heap", "_live", "_counter")

    def __init__(self):
        self._heap = []
        self._live = {}
        self._counter = 0

    def set(self, item, key):
        """
        Give C{item} the key C{key} (adding it if new).
        """
        self._counter += 1
        entry = (key, self._counter, item)
        self._live[item] = entry
        heappush(self._heap, entry)
        if len(self._heap) > 4 * len(self._live) + 64:
            self._heap = list(self._live.values())
            heapify(self._heap)

    def discard(self, item):
        self._live.pop(item, None)

    def __contains__(self, item):
        return item in self._live

    def __len__(self):
        return len(self._live)

    def peek(self):
        """
        The live item with the smallest key, or None; O(1) amortised.
        """
        heap, live = self._heap, self._live
        while heap:
            entry = heap[0]
            if live.get(entry[2]) is entry:
                return entry[2]
            heappop(heap)
        return None

    def smallest(self, limit):
        """
        Up to C{limit} live items, smallest key first; the heap is unchanged.
        """
        taken = []
        found = []
        heap, live = self._heap, self._live
        while heap and len(found) < limit:
            entry = heappop(heap)
            if live.get(entry[2]) is entry:
                taken.append(entry)
                found.append(entry[2])
        for entry in taken:
            heappush(heap, entry)
        return found
