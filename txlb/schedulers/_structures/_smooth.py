"""
Weighted rotation: nginx's smooth weighted round robin as a precomputed
cycle, and an earliest-deadline-first queue (Envoy's EDF scheduler) that
is updated in place when the cycle would be too long to recompute.
"""

from functools import reduce
from heapq import heapify, heappop, heappush, heapreplace
from math import gcd

#: Above this many steps of work the exact nginx cycle is too costly to
#: build; an earliest-deadline-first order (as Envoy uses) replaces it.
SMOOTH_EXACT_LIMIT = 200_000


def smoothWork(weights):
    """
    The steps of work L{smoothSequence} needs for C{weights} (positive
    integers): the number of weights times their sum once reduced by their
    greatest common divisor.
    """
    if not weights:
        return 0
    divisor = reduce(gcd, weights)
    return len(weights) * sum(w // divisor for w in weights)


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


class DeadlineQueue:
    """
    Earliest deadline first over weighted items: an item of weight C{w} is
    due every C{1/w}; L{next} gives the item due soonest (ties to the
    smaller order) and makes it due again one period later. Adding,
    removing and reweighting an item are O(log n); stale heap entries are
    dropped as they surface and the heap is compacted when they outnumber
    live ones.

    @ivar now: the deadline of the item given last.
    """

    __slots__ = ("_heap", "_live", "now")

    def __init__(self, items=()):
        """
        @param items: C{(item, order, weight)} triples, weights > 0, orders
            unique and comparable.
        """
        self.now = 0.0
        self._live = {}
        for item, order, weight in items:
            period = 1.0 / weight
            self._live[item] = (period, order, item, period)
        self._heap = list(self._live.values())
        heapify(self._heap)

    def __len__(self):
        return len(self._live)

    def __contains__(self, item):
        return item in self._live

    def add(self, item, order, weight):
        """
        Add C{item} (or change its weight), first due one period from now.
        """
        period = 1.0 / weight
        entry = (self.now + period, order, item, period)
        self._live[item] = entry
        heappush(self._heap, entry)
        if len(self._heap) > 2 * len(self._live) + 64:
            self._heap = list(self._live.values())
            heapify(self._heap)

    def remove(self, item):
        """
        Forget C{item} (nothing happens for an unknown one).
        """
        self._live.pop(item, None)

    def next(self):
        """
        The item due soonest, made due again a period later.

        @raise IndexError: when the queue is empty.
        """
        heap, live = self._heap, self._live
        entry = heap[0]
        while live.get(entry[2]) is not entry:
            heappop(heap)
            entry = heap[0]
        deadline, order, item, period = entry
        self.now = deadline
        entry = (deadline + period, order, item, period)
        live[item] = entry
        heapreplace(heap, entry)
        return item
