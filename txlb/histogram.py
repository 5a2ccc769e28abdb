"""
A histogram of durations (seconds) with fixed bucket upper bounds, in the
shape Prometheus exports: cumulative counts per bound, a sum and a count.

Pure: no Twisted, no clock; whoever measures a duration calls
L{Histogram.observe}.
"""

from bisect import bisect_left

#: Upper bounds (seconds) suited to connecting to a backend on a LAN or in a
#: data centre: sub-millisecond to the 5 s default connect timeout and beyond.
CONNECT_BUCKETS = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)

#: Upper bounds (seconds) suited to the length of a TCP session: a quick
#: request and answer up to long-lived connections of an hour or more.
SESSION_BUCKETS = (
    0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0, 14400.0,
)


class Histogram:
    """
    Counts observed durations into buckets.

    @ivar bounds: the finite upper bounds, ascending; an implicit last
        bucket (C{+Inf}) takes everything larger.
    @ivar count: how many values were observed.
    @ivar sum: their total.
    """

    __slots__ = ("bounds", "_counts", "count", "sum")

    def __init__(self, bounds=CONNECT_BUCKETS):
        bounds = tuple(float(b) for b in bounds)
        if not bounds or any(a >= b for a, b in zip(bounds, bounds[1:])):
            raise ValueError(f"bucket bounds must be ascending and not empty, not {bounds!r}")
        self.bounds = bounds
        self._counts = [0] * (len(bounds) + 1)
        self.count = 0
        self.sum = 0.0

    def observe(self, seconds):
        """
        Count one duration; a negative one (a clock stepping back) counts
        as 0.
        """
        seconds = max(0.0, float(seconds))
        self._counts[bisect_left(self.bounds, seconds)] += 1
        self.count += 1
        self.sum += seconds

    def cumulative(self):
        """
        C{[(upper bound, observations <= it), ...]}, ending with
        C{(float("inf"), count)}: the buckets as Prometheus wants them.
        """
        result, running = [], 0
        for bound, n in zip(self.bounds + (float("inf"),), self._counts):
            running += n
            result.append((bound, running))
        return result

    def merge(self, other):
        """
        Add C{other}'s observations (same bounds) to this one's: for summing
        histograms over groups or worker processes.
        """
        if other.bounds != self.bounds:
            raise ValueError("only histograms with the same bounds can be merged")
        for i, n in enumerate(other._counts):
            self._counts[i] += n
        self.count += other.count
        self.sum += other.sum

    def __repr__(self):
        return f"<Histogram count={self.count} sum={self.sum:g}>"
