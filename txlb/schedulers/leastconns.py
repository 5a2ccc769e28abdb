"""
C{leastconns}: the host with the fewest open connections relative to its
weight; ties go to the host whose last connection ended longest ago
(pythondirector's leastconnsrr idea), so idle hosts share the work.
"""

from txlb.schedulers._base import Scheduler
from txlb.schedulers._factory import SchedulerFactory
from txlb.schedulers._structures import LazyHeap


class LeastConnections(Scheduler):
    """
    Keeps the eligible hosts in a heap keyed by (open / weight, last close,
    configuration order), updated in place on every connection event and
    every change: a pick and a change are O(log n).
    """

    def rebuild(self):
        self._heap = LazyHeap()
        for host in self.hosts:
            self._update(host)

    def _update(self, host):
        self._heap.set(host, (host.open / host.effectiveWeight, host.lastClosed, self.members[host]))

    def eligibleAdded(self, host, index):
        self._update(host)

    eligibleReweighted = eligibleAdded

    def eligibleRemoved(self, host, index):
        self._heap.discard(host)

    def candidates(self, client):
        heap = self._heap
        best = heap.peek()
        if best is not None:
            yield best
            yield from heap.smallest(8)

    def connectionOpened(self, host):
        if host in self._heap:
            self._update(host)

    connectionClosed = connectionOpened


factory = SchedulerFactory(
    name="leastconns",
    description="fewest open connections per weight; ties to the host idle longest",
    schedulerClass=LeastConnections,
    aliases=("leastconnsrr", "leastc"),
)
