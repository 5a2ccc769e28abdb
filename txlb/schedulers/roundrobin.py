"""
C{roundrobin}: smooth weighted round robin, as nginx does it.

With weights 5, 1, 1 the order is a a b a c a a, not a a a a a b c; equal
weights give plain rotation.
"""

from zope.interface import implementer

from txlb.errors import NoHostAvailable
from txlb.interfaces import IScheduler
from txlb.schedulers._registry import SchedulerFactory


@implementer(IScheduler)
class RoundRobin:
    """
    Smooth weighted round robin over the eligible hosts.
    """

    def __init__(self, clock=None, random=None):
        self._hosts = []
        self._current = {}

    def setHosts(self, hosts):
        self._hosts = [h for h in hosts if h.effectiveWeight > 0]
        self._current = {h: self._current.get(h, 0) for h in self._hosts}

    def pick(self, client, tried):
        best = fallback = None
        total = 0
        current = self._current
        for host in self._hosts:
            if not host.available:
                continue
            weight = host.effectiveWeight
            total += weight
            score = current[host] = current[host] + weight
            if host in tried:
                if fallback is None or score > current[fallback]:
                    fallback = host
            elif best is None or score > current[best]:
                best = host
        chosen = best if best is not None else fallback
        if chosen is None:
            raise NoHostAvailable("no host is available")
        current[chosen] -= total
        return chosen

    def connectionOpened(self, host):
        pass

    def connectionClosed(self, host):
        pass


factory = SchedulerFactory(
    name="roundrobin",
    description="smooth weighted round robin (nginx's): spreads each host's turns evenly",
    schedulerClass=RoundRobin,
    aliases=("roundr", "weightr"),
)
