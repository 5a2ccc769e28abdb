"""
C{roundrobin}: smooth weighted round robin, as nginx does it.

With weights 5, 1, 1 the order is a a b a c a a, not a a a a a b c; equal
weights give plain rotation. The cycle is computed once per change, so a
pick is O(1).
"""

from txlb.schedulers._base import Scheduler, firstAvailable, intWeights
from txlb.schedulers._registry import SchedulerFactory
from txlb.schedulers._structures import smoothSequence


class RoundRobin(Scheduler):
    """
    Smooth weighted round robin over the eligible hosts.
    """

    def rebuild(self):
        hosts = self.hosts
        self._sequence = [hosts[i] for i in smoothSequence(intWeights(hosts))]
        self._position = 0

    def _candidates(self):
        sequence = self._sequence
        length = len(sequence)
        position = self._position
        for offset in range(length):
            self._position = (position + offset + 1) % length
            yield sequence[(position + offset) % length]

    def pick(self, client, tried):
        return firstAvailable(self._candidates(), tried, self.hosts)


factory = SchedulerFactory(
    name="roundrobin",
    description="smooth weighted round robin (nginx's): spreads each host's turns evenly",
    schedulerClass=RoundRobin,
    aliases=("roundr", "weightr"),
)
