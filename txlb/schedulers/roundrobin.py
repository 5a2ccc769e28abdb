"""
C{roundrobin}: smooth weighted round robin, as nginx does it.

With weights 5, 1, 1 the order is a a b a c a a, not a a a a a b c; equal
weights give plain rotation. The cycle is computed once per change, so a
pick is O(1). When the cycle would cost more than
L{SMOOTH_EXACT_LIMIT} steps to compute (hundreds of hosts, or uneven
weights), an earliest-deadline-first queue of the same proportions
(Envoy's) takes its place: it is changed in place in O(log n) and a pick is
O(log n).
"""

from txlb.schedulers._base import Scheduler, intWeights
from txlb.schedulers._factory import SchedulerFactory
from txlb.schedulers._structures import (
    SMOOTH_EXACT_LIMIT,
    DeadlineQueue,
    smoothSequence,
    smoothWork,
)


class RoundRobin(Scheduler):
    """
    Smooth weighted round robin over the eligible hosts.
    """

    _sequence = ()
    _position = 0
    _queue = None

    def _large(self):
        return len(self.hosts) ** 2 > SMOOTH_EXACT_LIMIT

    def rebuild(self):
        hosts = self.hosts
        weights = None if self._large() else intWeights(hosts)
        if weights is not None and smoothWork(weights) <= SMOOTH_EXACT_LIMIT:
            self._queue = None
            self._sequence = [hosts[i] for i in smoothSequence(weights)]
            self._position = 0
        else:
            members = self.members
            self._sequence = ()
            self._queue = DeadlineQueue((h, members[h], h.effectiveWeight) for h in hosts)

    def _inPlace(self):
        return self._queue is not None and self._large()

    def eligibleAdded(self, host, index):
        if self._inPlace():
            self._queue.add(host, self.members[host], host.effectiveWeight)
        else:
            self.rebuild()

    eligibleReweighted = eligibleAdded

    def eligibleRemoved(self, host, index):
        if self._inPlace():
            self._queue.remove(host)
        else:
            self.rebuild()

    def candidates(self, client):
        if self._queue is not None:
            return self._deadlines()
        return self._cycle()

    def _deadlines(self):
        take = self._queue.next
        while True:
            yield take()

    def _cycle(self):
        sequence = self._sequence
        length = len(sequence)
        position = self._position
        for offset in range(length):
            self._position = (position + offset + 1) % length
            yield sequence[(position + offset) % length]


factory = SchedulerFactory(
    name="roundrobin",
    description="smooth weighted round robin (nginx's): spreads each host's turns evenly",
    schedulerClass=RoundRobin,
    aliases=("roundr", "weightr"),
)
