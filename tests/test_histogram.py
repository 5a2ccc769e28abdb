"""
Property tests (hypothesis) for L{txlb.histogram.Histogram}.
"""

from hypothesis import given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from txlb.histogram import CONNECT_BUCKETS, SESSION_BUCKETS, Histogram

durations = st.lists(st.floats(min_value=-1.0, max_value=1e6, allow_nan=False), max_size=200)


class HistogramTests(SynchronousTestCase):
    @given(durations)
    def test_cumulative(self, values):
        """
        Each bucket counts exactly the observations at or below its bound;
        the last (+Inf) equals the count, and the counts never decrease.
        """
        h = Histogram(SESSION_BUCKETS)
        for v in values:
            h.observe(v)
        buckets = h.cumulative()
        self.assertEqual(buckets[-1], (float("inf"), len(values)))
        for bound, n in buckets:
            self.assertEqual(n, sum(1 for v in values if max(v, 0.0) <= bound))
        counts = [n for _, n in buckets]
        self.assertEqual(counts, sorted(counts))
        self.assertEqual(h.count, len(values))

    @given(durations)
    def test_sum(self, values):
        """
        The sum is the total of the observations, negatives counted as 0.
        """
        h = Histogram()
        for v in values:
            h.observe(v)
        self.assertAlmostEqual(h.sum, sum(max(v, 0.0) for v in values), delta=1e-6 * (1 + h.sum))

    @given(durations, durations)
    def test_merge(self, first, second):
        """
        Merging two histograms gives the histogram of both sets of values.
        """
        a, b, both = Histogram(), Histogram(), Histogram()
        for v in first:
            a.observe(v)
            both.observe(v)
        for v in second:
            b.observe(v)
            both.observe(v)
        a.merge(b)
        self.assertEqual(a.cumulative(), both.cumulative())
        self.assertEqual(a.count, both.count)

    def test_boundIsInclusive(self):
        """
        A value equal to a bound falls in that bound's bucket (Prometheus'
        "less than or equal").
        """
        h = Histogram((1.0, 2.0))
        h.observe(1.0)
        self.assertEqual(h.cumulative(), [(1.0, 1), (2.0, 1), (float("inf"), 1)])

    def test_badBounds(self):
        """
        Bounds must be ascending and not empty; mismatched bounds do not merge.
        """
        self.assertRaises(ValueError, Histogram, ())
        self.assertRaises(ValueError, Histogram, (2.0, 1.0))
        self.assertRaises(ValueError, Histogram(CONNECT_BUCKETS).merge, Histogram(SESSION_BUCKETS))
