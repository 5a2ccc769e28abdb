"""
Unit tests for raising the open file limit (L{txlb._limits.raiseFileLimit}),
with fake C{getrlimit} and C{setrlimit}.
"""

import resource

from twisted.trial.unittest import SynchronousTestCase

from txlb._limits import raiseFileLimit


class FileLimitTests(SynchronousTestCase):
    """
    L{raiseFileLimit}.
    """

    def _limits(self, soft, hard, fail=None):
        calls = []

        def setrlimit(which, limits):
            if fail is not None:
                raise fail
            calls.append(limits)

        result = raiseFileLimit(lambda which: (soft, hard), setrlimit)
        return result, calls

    def test_raisesSoftToHard(self):
        """
        The soft limit goes up to the hard one; the hard one stays.
        """
        self.assertEqual(self._limits(1024, 8192), ((1024, 8192, None), [(8192, 8192)]))

    def test_alreadyThere(self):
        """
        Nothing is changed when the soft limit is the hard one.
        """
        self.assertEqual(self._limits(8192, 8192), ((8192, 8192, None), []))

    def test_unlimitedHard(self):
        """
        An unlimited hard limit raises the soft one to a finite ceiling and
        leaves the hard one unlimited.
        """
        (before, after, error), calls = self._limits(1024, resource.RLIM_INFINITY)
        self.assertGreater(after, 1024)
        self.assertEqual(calls, [(after, resource.RLIM_INFINITY)])

    def test_refused(self):
        """
        When the system refuses, the reason is returned, not raised.
        """
        (before, after, error), calls = self._limits(1024, 8192, ValueError("no"))
        self.assertEqual((before, after, error), (1024, 1024, "no"))
