"""
C{leastconns}: the host with the fewest open connections relative to its
weight; ties go to the host whose last connection ended longest ago
(pythondirector's leastconnsrr idea), so idle hosts share the work.
"""

from txlb.schedulers._base import Scheduler, firstAvailable
from txlb.schedulers._registry import SchedulerFactory
from txlb.schedulers._structures import LazyHeap


class LeastConnections(Scheduler):
    """
    Keeps the hosts in a heap keyed by (open / weight, last close, order),
    updated on every connection event: a pick is O(log n).
    """

    def rebuild(self):
        self._heap = LazyHeap()
        self._order = {}
        for index, host in enumerate(self.hosts):
            self._order[host] = index
            self._update(host)

    def _update(self, host):
        self._heap.set(host, (host.open / host.effectiveWeight, host.lastClosed, self._order[host]))

    def pick(self, client, tried):
        best = self._heap.peek()
        if best is not None and best.available and best not in tried:
            return best
        return firstAvailable(self._heap.smallest(8), tried, self.hosts)

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
