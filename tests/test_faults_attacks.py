"""
The fault suite's attacks on the admin and the heartbeat listener, with a
real twistd: the same code C{python -m faults} runs.
"""

from twisted.trial.unittest import SynchronousTestCase

from tests.test_faults_scenarios import ScenarioMixin
from faults import attacks


class AttackTests(ScenarioMixin, SynchronousTestCase):
    def test_adminFuzzing(self):
        """
        Random calls and hostile bodies get only Faults or 4xx answers,
        never a traceback, change nothing, and relaying goes on.
        """
        outcome = self.assertKept(attacks.fuzz())
        self.assertIn("relaying intact", outcome.result)

    def test_adminAuthentication(self):
        """
        No bad credential gets past the admin, and a read-only user changes
        nothing.
        """
        outcome = self.assertKept(attacks.auth())
        self.assertTrue(outcome.result.startswith("0 bypasses"))

    def test_heartbeatForgery(self):
        """
        Forged, replayed, stale, truncated and oversized heartbeats are all
        dropped; the valid one works.
        """
        self.assertKept(attacks.heartbeats())
