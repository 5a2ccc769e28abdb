"""
C{random}: weighted random choice, O(log n) by bisection.
"""

from txlb.schedulers._base import Scheduler
from txlb.schedulers._factory import SchedulerFactory
from txlb.schedulers._structures import WeightedList


class Random(Scheduler):
    """
    Each pick draws a host with probability proportional to its weight.
    The weights are a L{WeightedList} beside C{self.hosts}, changed in
    place.
    """

    def rebuild(self):
        self._weights = WeightedList(h.effectiveWeight for h in self.hosts)

    def eligibleAdded(self, host, index):
        self._weights.insert(index, host.effectiveWeight)

    def eligibleRemoved(self, host, index):
        self._weights.delete(index)

    def eligibleReweighted(self, host, index):
        self._weights.set(index, host.effectiveWeight)

    def candidates(self, client):
        hosts, choose, uniform = self.hosts, self._weights.choose, self.random.random
        while True:
            yield hosts[choose(uniform())]


factory = SchedulerFactory(
    name="random",
    description="weighted random: each host drawn in proportion to its weight",
    schedulerClass=Random,
    aliases=("rand",),
)
