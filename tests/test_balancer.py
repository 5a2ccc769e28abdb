"""
Unit tests for the top of the service tree (L{txlb.balancer.LoadBalancer})
on a memory reactor.
"""

from twisted.internet.testing import MemoryReactorClock
from twisted.logger import globalLogPublisher
from twisted.trial.unittest import SynchronousTestCase

from txlb.balancer import LoadBalancer


class FileLimitTests(SynchronousTestCase):
    """
    Raising the open file limit at start.
    """

    def test_logged(self):
        """
        The balancer logs the raise once when it starts.
        """
        events = []
        globalLogPublisher.addObserver(events.append)
        self.addCleanup(globalLogPublisher.removeObserver, events.append)
        top = LoadBalancer(MemoryReactorClock(), raiseLimit=lambda: (1024, 4096, None))
        top.startService()
        self.assertEqual(
            [(e["before"], e["after"]) for e in events if "after" in e], [(1024, 4096)]
        )
