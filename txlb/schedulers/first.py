"""
C{first}: fill hosts in the order listed, each up to its maxconn
(HAProxy's C{first}).
"""

from txlb.schedulers._base import Scheduler
from txlb.schedulers._factory import SchedulerFactory
from txlb.schedulers._structures import LazyHeap


class First(Scheduler):
    """
    The first host in configuration order that has a free slot. Full hosts
    leave a heap of ranks and come back when a connection ends; changes
    are made in place: O(log n).
    """

    def rebuild(self):
        self._free = LazyHeap()
        for host in self.hosts:
            self._refresh(host)

    def _refresh(self, host):
        if host.full:
            self._free.discard(host)
        elif host not in self._free:
            self._free.set(host, self.members[host])

    def eligibleAdded(self, host, index):
        self._refresh(host)

    def eligibleRemoved(self, host, index):
        self._free.discard(host)

    def eligibleReweighted(self, host, index):
        pass

    def candidates(self, client):
        free = self._free
        best = free.peek()
        if best is not None:
            yield best
            yield from free.smallest(8)

    def connectionOpened(self, host):
        if host in self.eligible:
            self._refresh(host)

    connectionClosed = connectionOpened


factory = SchedulerFactory(
    name="first",
    description="fill hosts in the order listed, each up to its maxconn",
    schedulerClass=First,
)
