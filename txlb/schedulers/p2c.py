"""
C{p2c}: the power of two random choices (Envoy's least_request, HAProxy's
C{random(2)}): draw two hosts by weight, take the less loaded.
"""

from txlb.schedulers._factory import SchedulerFactory
from txlb.schedulers.random import Random


def _load(host):
    return (host.open + 1) / host.effectiveWeight


class PowerOfTwo(Random):
    """
    Two weighted draws; the one with fewer open connections per weight
    wins. The draws are L{Random}'s.
    """

    def candidates(self, client):
        hosts, choose, uniform = self.hosts, self._weights.choose, self.random.random
        while True:
            a = hosts[choose(uniform())]
            b = hosts[choose(uniform())]
            if _load(b) < _load(a) and b.available:
                a, b = b, a
            yield a
            yield b


factory = SchedulerFactory(
    name="p2c",
    description="power of two random choices: the less loaded of two weighted draws",
    schedulerClass=PowerOfTwo,
)
