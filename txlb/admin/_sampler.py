"""
Rates and peaks for the status page and C{/metrics}: every second the
sampler reads each service's and host's figures (summed over workers) and
keeps the last few seconds of them.

A rate is new connections per second over the last L{WINDOW} seconds; a
peak is the most sessions open at once at any sample since txlb started
(bursts shorter than a second between two samples can be missed).
"""

import weakref
from collections import deque

from twisted.internet.task import LoopingCall

from txlb.admin import _view

#: Seconds between samples.
PERIOD = 1.0
#: Seconds a rate is averaged over.
WINDOW = 10.0

_samplers = weakref.WeakKeyDictionary()


class Sampler:
    """
    Rates and peaks of one balancer, keyed by C{(service,)} and
    C{(service, group, host)}.
    """

    def __init__(self, balancer, clock):
        self.balancer = balancer
        self.clock = clock
        self._totals = {}
        self._peaks = {}
        self._loop = None

    def start(self):
        """
        Sample every L{PERIOD} seconds from now on.
        """
        self._loop = LoopingCall(self.sample)
        self._loop.clock = self.clock
        self._loop.start(PERIOD, now=True)

    def stop(self):
        """
        Stop sampling.
        """
        if self._loop is not None and self._loop.running:
            self._loop.stop()

    def sample(self):
        """
        Read every figure now.
        """
        now = self.clock.seconds()
        seen = set()
        for sname, proxy in list(self.balancer.proxies.items()):
            counts = _view.serviceCounts(proxy)
            self._record((sname,), now, counts["accepted"], counts["clients"])
            seen.add((sname,))
            for gname, pool in list(proxy.pools.items()):
                for hname, host in list(pool.hosts.items()):
                    counts = _view.hostCounts(proxy, pool, host)
                    key = (sname, gname, hname)
                    self._record(key, now, counts["total"], counts["open"])
                    seen.add(key)
        for key in set(self._totals) - seen:
            del self._totals[key]
            self._peaks.pop(key, None)

    def _record(self, key, now, total, current):
        history = self._totals.setdefault(key, deque())
        history.append((now, total))
        while len(history) > 2 and now - history[1][0] >= WINDOW:
            history.popleft()
        if current > self._peaks.get(key, 0):
            self._peaks[key] = current

    def rate(self, key):
        """
        New connections per second for C{key} over the last samples (0.0
        before two samples were taken).
        """
        history = self._totals.get(key)
        if not history or len(history) < 2:
            return 0.0
        (t0, n0), (t1, n1) = history[0], history[-1]
        return (n1 - n0) / (t1 - t0) if t1 > t0 else 0.0

    def peak(self, key, current=0):
        """
        The most sessions seen open at once for C{key} (at least C{current}).
        """
        peak = max(self._peaks.get(key, 0), current)
        if peak:
            self._peaks[key] = peak
        return peak


def samplerFor(balancer):
    """
    The one running L{Sampler} of C{balancer}, started on first use with
    the balancer's reactor as its clock.
    """
    sampler = _samplers.get(balancer)
    if sampler is None:
        sampler = _samplers[balancer] = Sampler(balancer, balancer.reactor)
        sampler.start()
    return sampler
