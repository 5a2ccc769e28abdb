"""
Slow start: a host that comes back takes a growing share of new clients
instead of all its share at once.
"""

from txlb.backend import DOWN, UP
from txlb.health._observer import PoolWatcher, cancelTimer

STEPS = 10
START_SHARE = 0.1


class SlowStart(PoolWatcher):
    """
    Ramps a returning host's effective weight from a tenth of its weight
    to all of it over C{duration} seconds, in ten steps.
    """

    kind = "slowstart"

    def __init__(self, pool, clock, duration):
        PoolWatcher.__init__(self, pool)
        self.clock = clock
        self.duration = duration
        self._ramps = {}

    def stopped(self):
        for host, (timer, _) in list(self._ramps.items()):
            cancelTimer(timer)
            self.pool.setEffectiveWeight(host, host.weight)
        self._ramps.clear()

    def stateChanged(self, pool, host, change):
        ramp = self._ramps.pop(host, None)
        if ramp is not None:
            cancelTimer(ramp[0])
            self.pool.setEffectiveWeight(host, host.weight)
        if change.old == DOWN and change.new == UP and host.weight > 0:
            self._step(host, self.clock.seconds())

    def _step(self, host, began):
        share = max(START_SHARE, (self.clock.seconds() - began) / self.duration)
        if share >= 1 or host.state != UP:
            self._ramps.pop(host, None)
            self.pool.setEffectiveWeight(host, host.weight)
            return
        self.pool.setEffectiveWeight(host, host.weight * share)
        timer = self.clock.callLater(self.duration / STEPS, self._step, host, began)
        self._ramps[host] = (timer, began)
