"""
Weighted random choice: over a fixed list by bisection, and over a list
that changes in place.
"""

from bisect import bisect_right
from itertools import accumulate


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


class WeightedList:
    """
    A list of weights that can change in place (insert, delete, set), with
    weighted random choice of a position.

    The weights are kept in blocks of about L{BLOCK}, each with its own
    cumulative sums, under one cumulative list of the blocks' sums: a change
    costs O(BLOCK + n / BLOCK) (some microseconds at 10,000 weights), a
    choice two bisections. With whole-number weights a choice is the same
    as L{CumulativeWeights}'s over the same list.
    """

    BLOCK = 64

    __slots__ = ("_blocks", "_sums", "_cumulative", "_starts", "total")

    def __init__(self, weights=()):
        weights = list(weights)
        size = self.BLOCK
        self._blocks = [weights[i : i + size] for i in range(0, len(weights), size)]
        self._sums = [list(accumulate(block)) for block in self._blocks]
        self._reindex()

    def _reindex(self):
        self._cumulative = list(accumulate(sums[-1] for sums in self._sums))
        self._starts = [0]
        for block in self._blocks:
            self._starts.append(self._starts[-1] + len(block))
        self.total = self._cumulative[-1] if self._cumulative else 0

    def __len__(self):
        return self._starts[-1]

    def __iter__(self):
        for block in self._blocks:
            yield from block

    def _locate(self, index, inserting=False):
        length = len(self)
        if index < 0 or index > length or (index == length and not inserting):
            raise IndexError(f"position {index} is outside 0..{length}")
        if index == length:
            last = len(self._blocks) - 1
            return last, len(self._blocks[last])
        block = bisect_right(self._starts, index) - 1
        return block, index - self._starts[block]

    def _changed(self, block):
        if self._blocks[block]:
            self._sums[block] = list(accumulate(self._blocks[block]))
        else:
            del self._blocks[block]
            del self._sums[block]
        self._reindex()

    def insert(self, index, weight):
        """
        Insert C{weight} before position C{index} (C{len} appends).
        """
        if not self._blocks:
            self._blocks.append([])
            self._sums.append([])
        block, offset = self._locate(index, inserting=True)
        items = self._blocks[block]
        items.insert(offset, weight)
        if len(items) > 2 * self.BLOCK:
            half = len(items) // 2
            self._blocks[block : block + 1] = [items[:half], items[half:]]
            self._sums[block : block + 1] = [[], []]
            self._sums[block + 1] = list(accumulate(self._blocks[block + 1]))
        self._changed(block)

    def delete(self, index):
        """
        Remove the weight at position C{index}.
        """
        block, offset = self._locate(index)
        del self._blocks[block][offset]
        self._changed(block)

    def set(self, index, weight):
        """
        Change the weight at position C{index}.
        """
        block, offset = self._locate(index)
        self._blocks[block][offset] = weight
        self._changed(block)

    def choose(self, uniform):
        """
        Map C{uniform}, a float in [0, 1), to a position with probability
        proportional to its weight.

        @raise IndexError: when the list is empty.
        """
        target = uniform * self.total
        cumulative = self._cumulative
        block = bisect_right(cumulative, target)
        if block >= len(cumulative):
            block = len(cumulative) - 1
            if block < 0:
                raise IndexError("no weights to choose from")
        if block:
            target -= cumulative[block - 1]
        sums = self._sums[block]
        offset = bisect_right(sums, target)
        if offset >= len(sums):
            offset = len(sums) - 1
        return self._starts[block] + offset
