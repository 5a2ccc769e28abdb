"""
C{p2c}: the power of two random choices (Envoy's least_request, HAProxy's
C{random(2)}): draw two hosts by weight, take the less loaded.
"""

from txlb.schedulers._base import Scheduler, firstAvailable, intWeights
from txlb.schedulers._registry import SchedulerFactory
from txlb.schedulers._structures import CumulativeWeights


def _load(host):
    return (host.open + 1) / host.effectiveWeight


class PowerOfTwo(Scheduler):
    """
    Two weighted draws; the one with fewer open connections per weight wins.
    """

    def rebuild(self):
        self._weights = CumulativeWeights(intWeights(self.hosts))

    def _draws(self):
        hosts, choose, uniform = self.hosts, self._weights.choose, self.random.random
        while hosts:
            a = hosts[choose(uniform())]
            b = hosts[choose(uniform())]
            if _load(b) < _load(a) and b.available:
                a, b = b, a
            yield a
            yield b

    def pick(self, client, tried):
        return firstAvailable(self._draws(), tried, self.hosts)


factory = SchedulerFactory(
    name="p2c",
    description="power of two random choices: the less loaded of two weighted draws",
    schedulerClass=PowerOfTwo,
)
