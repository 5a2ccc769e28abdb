"""
The soak scenario: 60 s of mixed load with RSS and descriptors sampled.
"""

import pytest
from twisted.trial.unittest import SynchronousTestCase

from faults import soak


@pytest.mark.slow
class SoakTests(SynchronousTestCase):
    """
    Long mixed load.
    """

    def test_flat(self):
        """
        Over 60 s of mixed load txlb's RSS and open descriptors stay flat,
        and every descriptor is returned afterwards.
        """
        outcome = soak.run()
        self.assertEqual(list(outcome.problems), [], outcome.result)
        self.assertEqual(outcome.fds[1], outcome.fds[0])
