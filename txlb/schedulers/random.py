"""
C{random}: weighted random choice, O(log n) by bisection.
"""

from txlb.schedulers._base import Scheduler, firstAvailable, intWeights
from txlb.schedulers._registry import SchedulerFactory
from txlb.schedulers._structures import CumulativeWeights


class Random(Scheduler):
    """
    Each pick draws a host with probability proportional to its weight.
    """

    def rebuild(self):
        self._weights = CumulativeWeights(intWeights(self.hosts))

    def _draws(self):
        hosts, choose, uniform = self.hosts, self._weights.choose, self.random.random
        while hosts:
            yield hosts[choose(uniform())]

    def pick(self, client, tried):
        return firstAvailable(self._draws(), tried, self.hosts)


factory = SchedulerFactory(
    name="random",
    description="weighted random: each host drawn in proportion to its weight",
    schedulerClass=Random,
    aliases=("rand",),
)
