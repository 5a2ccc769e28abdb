"""
C{hash}: consistent hashing on the client's IP address (or another
C{key=}, see L{txlb.schedulers._keys}), with capacities
(python-continuum's semantics: a host gets points on the ring in proportion
to its weight; a key resolves to the next point clockwise, wrapping).

A key whose host is unavailable walks on to the next available host. With
C{hash:load=1.25} no host takes more than 1.25 times its weighted share of
the open connections ("consistent hashing with bounded loads").

A change adds or removes only the points of the host concerned, in place;
a change that alters the points per weight (the ring holds at most 200,000
points) builds a new ring, in slices on the clock when it is large, while
picks use the last complete one.
"""

from itertools import islice
from math import ceil

from txlb.schedulers._base import READ, Scheduler, aroundKey
from txlb.schedulers._factory import SchedulerFactory
from txlb.schedulers._keys import hashKeyOption, keyFunction
from txlb.schedulers._sliced import SlicedRebuild
from txlb.schedulers._structures import HashRing


def _loadFactor(text):
    value = float(text)
    if not value > 1:
        raise ValueError("the load factor must be above 1")
    return value


def _points(host):
    return max(1, int(round(host.effectiveWeight)))


class ConsistentHash(Scheduler):
    """
    A hash ring of the eligible hosts; a pick is a bisection.
    """

    def __init__(self, clock=None, random=None, load=None, key="source"):
        Scheduler.__init__(self, clock, random)
        self.load = load
        self.key = keyFunction(key, clock)
        self._open = 0
        self._weights = 0
        self._ring = None
        self._rebuild = SlicedRebuild(clock, self._building, self._install)

    def _building(self):
        hosts = list(self.hosts)
        return HashRing.building([(h.name, _points(h)) for h in hosts], owners=hosts)

    def _install(self, ring):
        self._ring = ring

    def rebuild(self):
        self._sumWeights()
        self._open = sum(h.open for h in self.hosts)
        self._rebuild.request()

    def _change(self, inPlace, host):
        # Unless a rebuild is under way, the ring holds exactly the eligible
        # hosts, so a change can be made to it in place.
        if self._ring is None or self._rebuild.busy or not inPlace(host):
            self._rebuild.request()

    def _ringAdd(self, host):
        return self._ring.add(host, host.name, _points(host))

    def _ringRemove(self, host):
        return self._ring.remove(host)

    def _ringReweight(self, host):
        return self._ring.reweight(host, _points(host))

    def _sumWeights(self):
        # Summed anew in configuration order (not adjusted by each change)
        # so that the bound is exactly that of a scheduler made afresh.
        self._weights = sum(h.effectiveWeight for h in self.hosts)

    def eligibleAdded(self, host, index):
        self._sumWeights()
        self._open += host.open
        self._change(self._ringAdd, host)

    def eligibleRemoved(self, host, index):
        self._sumWeights()
        self._open -= host.open
        self._change(self._ringRemove, host)

    def eligibleReweighted(self, host, index):
        self._sumWeights()
        self._change(self._ringReweight, host)

    def candidates(self, client):
        key = self.key(client)
        ring = self._ring
        if ring is None or not ring.size:
            walk = aroundKey(self.hosts, key)
        else:
            walk = self._walk(ring, key)
        if self.load is None or not self._weights:
            return walk
        return self._bounded(walk)

    def _walk(self, ring, key):
        eligible = self.eligible
        seen = set()
        # Unless a rebuild is under way the ring holds only eligible hosts;
        # meanwhile the others are skipped, and a walk past them is bounded.
        for host in islice(ring.walk(key), READ):
            if host not in seen:
                seen.add(host)
                if host in eligible:
                    yield host
        yield from aroundKey(self.hosts, key)

    def _bounded(self, walk):
        bound = self.load * (self._open + 1) / self._weights
        for host in walk:
            if host.open < ceil(bound * host.effectiveWeight):
                yield host

    def connectionOpened(self, host):
        if host in self.eligible:
            self._open += 1

    def connectionClosed(self, host):
        if host in self.eligible:
            self._open -= 1


factory = SchedulerFactory(
    name="hash",
    description=(
        "consistent hashing on the client IP with capacities; load=F bounds any host's share; "
        "key=source|source-port|sni"
    ),
    schedulerClass=ConsistentHash,
    options={"load": _loadFactor, "key": hashKeyOption},
)
