"""
C{hash}: consistent hashing on the client's IP address (or another
C{key=}, see L{txlb.schedulers._keys}), with capacities
(python-continuum's semantics: a host gets points on the ring in proportion
to its weight; a key resolves to the next point clockwise, wrapping).

A key whose host is unavailable walks on to the next available host. With
C{hash:load=1.25} no host takes more than 1.25 times its weighted share of
the open connections ("consistent hashing with bounded loads").
"""

from math import ceil

from txlb.schedulers._base import Scheduler, firstAvailable
from txlb.schedulers._keys import hashKeyOption, keyFunction
from txlb.schedulers._registry import SchedulerFactory
from txlb.schedulers._structures import HashRing


def _loadFactor(text):
    value = float(text)
    if not value > 1:
        raise ValueError("the load factor must be above 1")
    return value


class ConsistentHash(Scheduler):
    """
    A hash ring rebuilt once per change; a pick is a bisection.
    """

    def __init__(self, clock=None, random=None, load=None, key="source"):
        Scheduler.__init__(self, clock, random)
        self.load = load
        self.key = keyFunction(key, clock)
        self._open = 0

    def rebuild(self):
        hosts = self.hosts
        self._ring = HashRing([(h.name, max(1, int(round(h.effectiveWeight)))) for h in hosts])
        self._weights = sum(h.effectiveWeight for h in hosts)
        self._members = set(hosts)
        self._open = sum(h.open for h in hosts)

    def _candidates(self, key):
        hosts, seen = self.hosts, set()
        bound = None
        if self.load is not None and self._weights:
            bound = self.load * (self._open + 1) / self._weights
        for index in self._ring.walk(key):
            if index in seen:
                continue
            seen.add(index)
            host = hosts[index]
            if bound is not None and host.open >= ceil(bound * host.effectiveWeight):
                continue
            yield host

    def pick(self, client, tried):
        if not self.hosts:
            return firstAvailable((), tried, ())
        return firstAvailable(self._candidates(self.key(client)), tried, self.hosts)

    def connectionOpened(self, host):
        if host in self._members:
            self._open += 1

    def connectionClosed(self, host):
        if host in self._members:
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
