"""
C{first}: fill hosts in the order listed, each up to its maxconn
(HAProxy's C{first}; the TODO's "connection count scheduler").
"""

from txlb.schedulers._base import Scheduler, firstAvailable
from txlb.schedulers._registry import SchedulerFactory
from txlb.schedulers._structures import LazyHeap


class First(Scheduler):
    """
    The first host in configuration order that has a free slot. Full hosts
    leave a heap of indexes and come back when a connection ends: O(log n).
    """

    def rebuild(self):
        self._order = {host: index for index, host in enumerate(self.hosts)}
        self._free = LazyHeap()
        for host in self.hosts:
            self._refresh(host)

    def _refresh(self, host):
        if host.full:
            self._free.discard(host)
        elif host not in self._free:
            self._free.set(host, self._order[host])

    def pick(self, client, tried):
        best = self._free.peek()
        if best is not None and best.available and best not in tried:
            return best
        return firstAvailable(self._free.smallest(8), tried, self.hosts)

    def connectionOpened(self, host):
        if host in self._order:
            self._refresh(host)

    connectionClosed = connectionOpened


factory = SchedulerFactory(
    name="first",
    description="fill hosts in the order listed, each up to its maxconn",
    schedulerClass=First,
)
