"""
Google's Maglev lookup table, weighted, built in steps.
"""

from array import array

from txlb.schedulers._structures._hashing import hashKey, nextPrime
from txlb.schedulers._structures._steps import SLICE_WORK, finish

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

    A table is never changed once built: a change of members is a new
    table, built in steps (L{building}) when it is large, a thousand
    members' table taking some tenths of a second of CPython and ten
    thousand members' some seconds.
    """

    __slots__ = ("table", "size")

    def __init__(self, members, minimumSize=None):
        """
        @param members: C{(name, weight)} pairs, weights > 0.
        @param minimumSize: the table is the smallest prime at least this
            large (default: L{maglevSize}).
        """
        finish(self._build(members, minimumSize))

    @classmethod
    def building(cls, members, minimumSize=None):
        """
        A builder (see L{txlb.schedulers._structures._steps}) of the table
        L{MaglevTable} would build at once from the same arguments.
        """
        table = cls.__new__(cls)
        yield from table._build(members, minimumSize)
        return table

    def _build(self, members, minimumSize):
        count = len(members)
        self.size = size = nextPrime(minimumSize) if minimumSize else maglevSize(count)
        self.table = array("l")
        if not count:
            return
        slots, skips = [], []
        for name, _ in members:
            h = hashKey(name)
            slots.append(h % size)
            skips.append((h >> 32) % (size - 1) + 1)
            if len(slots) % (SLICE_WORK // 4) == 0:
                yield
        maxWeight = max(w for _, w in members)
        shares = [w / maxWeight for _, w in members]
        credit = [0.0] * count
        if count >= SLICE_WORK // 4:
            yield
        table = array("l", [-1]) * size
        filled = 0
        work = 0
        members = range(count)
        while True:
            for i in members:
                credit[i] += shares[i]
                if credit[i] < 1:
                    continue
                credit[i] -= 1
                slot, skip = slots[i], skips[i]
                while table[slot] >= 0:
                    slot += skip
                    if slot >= size:
                        slot -= size
                    work += 1
                    if work >= SLICE_WORK:
                        work = 0
                        yield
                table[slot] = i
                slot += skip
                slots[i] = slot - size if slot >= size else slot
                filled += 1
                if filled == size:
                    self.table = table
                    return
                work += 1
                if work >= SLICE_WORK:
                    work = 0
                    yield

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
