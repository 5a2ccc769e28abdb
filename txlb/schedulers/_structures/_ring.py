"""
A consistent-hash ring with capacities, built in steps and changed in place.
"""

from array import array
from bisect import bisect_left
from heapq import merge

from txlb.schedulers._structures._hashing import hashKey
from txlb.schedulers._structures._steps import SLICE_WORK, finish

_INDEX_BITS = 32
_INDEX_MASK = (1 << _INDEX_BITS) - 1

#: Elementary steps (see L{SLICE_WORK}) that hashing one point and merging
#: one point cost.
_HASH_WORK = 4
_MERGE_WORK = 2


def ringScale(totalWeight, pointsPerWeight, maxPoints):
    """
    The points per unit of weight: C{pointsPerWeight}, halved until the
    ring holds at most C{maxPoints} points (but at least 1). Coming in
    powers of two, it stays the same over most changes, so a change of
    membership or weight adds or removes only its own points.
    """
    scale = pointsPerWeight
    while scale > 1 and totalWeight * scale > maxPoints:
        scale //= 2
    return scale


class HashRing:
    """
    A consistent-hash ring with capacities (python-continuum's semantics):
    each member gets points in proportion to its weight; a key resolves to
    the owner of the next point clockwise, wrapping round.

    Members come and go and change weight in place (L{add}, L{remove},
    L{reweight}) while the points per weight stay the same; a change that
    would change them answers C{False}, and the caller builds a new ring
    (in steps with L{building} when it is large).

    @ivar size: the number of points.
    @ivar scale: the points per unit of weight.
    """

    __slots__ = ("_points", "_owners", "_members", "_names", "_settings", "total", "scale", "size")

    def __init__(self, members, pointsPerWeight=64, maxPoints=200_000, owners=None):
        """
        @param members: C{(name, weight)} pairs; names unique, weights >= 0
            whole numbers.
        @param owners: what L{walk} gives for each member (default: the
            members' indexes).
        @raise ValueError: for a duplicate name.
        """
        finish(self._build(members, pointsPerWeight, maxPoints, owners))

    @classmethod
    def building(cls, members, pointsPerWeight=64, maxPoints=200_000, owners=None):
        """
        A builder (see L{txlb.schedulers._structures._steps}) of the ring
        L{HashRing} would build at once from the same arguments.
        """
        ring = cls.__new__(cls)
        yield from ring._build(members, pointsPerWeight, maxPoints, owners)
        return ring

    def _build(self, members, pointsPerWeight, maxPoints, owners):
        if owners is None:
            owners = range(len(members))
        owners = list(owners)
        self._names = {name for name, _ in members}
        if len(self._names) != len(members):
            raise ValueError("a member was added twice")
        self._settings = (pointsPerWeight, maxPoints)
        self._members = {owner: member for owner, member in zip(owners, members)}
        self.total = sum(weight for _, weight in members)
        self.scale = scale = ringScale(self.total, pointsPerWeight, maxPoints)
        chunks, chunk = [], []
        for index, (name, weight) in enumerate(members):
            for replica in range(weight * scale):
                chunk.append(hashKey(f"{name}-{replica}") << _INDEX_BITS | index)
                if len(chunk) * _HASH_WORK >= SLICE_WORK:
                    chunk.sort()
                    chunks.append(chunk)
                    chunk = []
                    yield
        chunk.sort()
        chunks.append(chunk)
        points, pointOwners = array("Q"), []
        if len(chunks) == 1:
            points = array("Q", [p >> _INDEX_BITS for p in chunk])
            pointOwners = [owners[p & _INDEX_MASK] for p in chunk]
        else:
            yield
            work = 0
            for p in merge(*chunks):
                points.append(p >> _INDEX_BITS)
                pointOwners.append(owners[p & _INDEX_MASK])
                work += _MERGE_WORK
                if work >= SLICE_WORK:
                    work = 0
                    yield
        self._points = points
        self._owners = pointOwners
        self.size = len(points)

    def _scaleFor(self, total):
        return ringScale(total, *self._settings)

    def _insert(self, owner, name, replicas):
        points, owners = self._points, self._owners
        for replica in replicas:
            point = hashKey(f"{name}-{replica}")
            index = bisect_left(points, point)
            points.insert(index, point)
            owners.insert(index, owner)
        self.size = len(points)

    def _delete(self, owner, name, replicas):
        points, owners = self._points, self._owners
        for replica in replicas:
            index = bisect_left(points, hashKey(f"{name}-{replica}"))
            while owners[index] != owner:
                index += 1
            del points[index]
            del owners[index]
        self.size = len(points)

    def add(self, owner, name, weight):
        """
        Add a member in place, unless the points per weight would change.

        @return: whether it was added.
        @raise ValueError: for a name or owner already on the ring.
        """
        if name in self._names or owner in self._members:
            raise ValueError("a member was added twice")
        if self._scaleFor(self.total + weight) != self.scale:
            return False
        self._insert(owner, name, range(weight * self.scale))
        self._members[owner] = (name, weight)
        self._names.add(name)
        self.total += weight
        return True

    def remove(self, owner):
        """
        Remove a member in place, unless the points per weight would change.

        @return: whether it was removed.
        """
        name, weight = self._members[owner]
        if self._scaleFor(self.total - weight) != self.scale:
            return False
        self._delete(owner, name, range(weight * self.scale))
        del self._members[owner]
        self._names.discard(name)
        self.total -= weight
        return True

    def reweight(self, owner, weight):
        """
        Change a member's weight in place (adding or removing only its own
        points), unless the points per weight would change.

        @return: whether it was changed.
        """
        name, old = self._members[owner]
        if self._scaleFor(self.total - old + weight) != self.scale:
            return False
        scale = self.scale
        if weight > old:
            self._insert(owner, name, range(old * scale, weight * scale))
        else:
            self._delete(owner, name, range(weight * scale, old * scale))
        self._members[owner] = (name, weight)
        self.total += weight - old
        return True

    def walk(self, key):
        """
        The owners from C{key}'s point clockwise, one per point, wrapping
        round once.

        @raise IndexError: when the ring is empty.
        """
        if not self.size:
            raise IndexError("empty continuum")
        size = self.size
        start = bisect_left(self._points, hashKey(key)) % size
        owners = self._owners
        for offset in range(size):
            yield owners[(start + offset) % size]

    def resolve(self, key):
        """
        The owner C{key} belongs to.

        @raise IndexError: when the ring is empty.
        """
        return next(self.walk(key))
