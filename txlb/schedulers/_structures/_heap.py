"""
A min-heap whose items' keys change.
"""

from heapq import heapify, heappop, heappush


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
