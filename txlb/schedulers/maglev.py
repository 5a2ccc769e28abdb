"""
C{maglev}: Google's Maglev lookup table on the client's IP address (or
another C{key=}, see L{txlb.schedulers._keys}). A pick
is one table lookup; membership changes move few keys.
"""

from txlb.schedulers._base import Scheduler, firstAvailable
from txlb.schedulers._keys import hashKeyOption, keyFunction
from txlb.schedulers._registry import SchedulerFactory
from txlb.schedulers._structures import MaglevTable


class Maglev(Scheduler):
    """
    A weighted Maglev table (a prime size above 100 entries per host),
    rebuilt once per change.
    """

    def __init__(self, clock=None, random=None, key="source"):
        Scheduler.__init__(self, clock, random)
        self.key = keyFunction(key, clock)

    def rebuild(self):
        self._table = MaglevTable([(h.name, h.effectiveWeight) for h in self.hosts])

    def _candidates(self, key):
        hosts, seen = self.hosts, set()
        for index in self._table.walk(key):
            if index not in seen:
                seen.add(index)
                yield hosts[index]

    def pick(self, client, tried):
        if not self.hosts:
            return firstAvailable((), tried, ())
        return firstAvailable(self._candidates(self.key(client)), tried, self.hosts)


factory = SchedulerFactory(
    name="maglev",
    description=(
        "Maglev consistent hashing on the client IP: O(1) lookups, minimal disruption; "
        "key=source|source-port|sni"
    ),
    schedulerClass=Maglev,
    options={"key": hashKeyOption},
)
