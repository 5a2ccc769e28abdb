"""
C{maglev}: Google's Maglev lookup table on the client's IP address (or
another C{key=}, see L{txlb.schedulers._keys}). A pick
is one table lookup; membership changes move few keys.

A table is never changed: every change builds a new one, in slices on the
clock when it is large (a thousand hosts' table takes some tenths of a
second to build, ten thousand hosts' some seconds), while picks use the
last complete table and skip the hosts in it that are no longer eligible.
Until the first table is complete, a client is placed by its hash among
the eligible hosts.
"""

from txlb.schedulers._base import READ, Scheduler, aroundKey
from txlb.schedulers._factory import SchedulerFactory
from txlb.schedulers._keys import hashKeyOption, keyFunction
from txlb.schedulers._sliced import SlicedRebuild
from txlb.schedulers._structures import MaglevTable, hashKey


class Maglev(Scheduler):
    """
    A weighted Maglev table (a prime size above 100 entries per host),
    rebuilt after each change.
    """

    def __init__(self, clock=None, random=None, key="source"):
        Scheduler.__init__(self, clock, random)
        self.key = keyFunction(key, clock)
        self._table = None
        self._tableHosts = ()
        self._rebuild = SlicedRebuild(clock, self._building, self._install)

    def _building(self):
        hosts = tuple(self.hosts)
        return self._owned(hosts, MaglevTable.building([(h.name, h.effectiveWeight) for h in hosts]))

    def _owned(self, hosts, steps):
        table = yield from steps
        return table, hosts

    def _install(self, built):
        self._table, self._tableHosts = built

    def rebuild(self):
        self._rebuild.request()

    def candidates(self, client):
        key = self.key(client)
        table = self._table
        if table is None or not table.table:
            return aroundKey(self.hosts, key)
        return self._walk(table, key)

    def _walk(self, table, key):
        hosts, entries, size, eligible = self._tableHosts, table.table, table.size, self.eligible
        start = hashKey(key)
        seen = set()
        # The table may be older than the last change: its hosts that are no
        # longer eligible are skipped, and a walk past them is bounded.
        for offset in range(READ):
            host = hosts[entries[(start + offset) % size]]
            if host not in seen:
                seen.add(host)
                if host in eligible:
                    yield host
        yield from aroundKey(self.hosts, key)


factory = SchedulerFactory(
    name="maglev",
    description=(
        "Maglev consistent hashing on the client IP: O(1) lookups, minimal disruption; "
        "key=source|source-port|sni"
    ),
    schedulerClass=Maglev,
    options={"key": hashKeyOption},
)
