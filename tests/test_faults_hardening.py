"""
The fault suite's hardening scenarios with a real twistd: the same code
C{python -m faults} runs for the admin's limits, password
guessing, the users file, secret file modes and heartbeat replay.
"""

from twisted.trial.unittest import SynchronousTestCase

from tests.test_faults_scenarios import ScenarioMixin
from faults import hardening, heartbeatreplay


class HardeningTests(ScenarioMixin, SynchronousTestCase):
    def test_idleAdminConnections(self):
        """
        2,000 idle admin connections to a balancer limited to 1,024
        descriptors: every relayed client is served and txlbctl answers.
        """
        self.assertKept(hardening.idle())

    def test_hugeBody(self):
        """
        POSTs announcing 2 GiB without credentials are answered 413 within
        a second, and no file is opened for them.
        """
        self.assertKept(hardening.body())

    def test_guessing(self):
        """
        Unknown users and wrong passwords take the same time; guessing is
        slowed, then refused, for its source only.
        """
        self.assertKept(hardening.guessing())

    def test_usersFile(self):
        """
        A user removed beside a malformed line is refused within a second
        or two; the bad lines are logged.
        """
        self.assertKept(hardening.users())

    def test_modes(self):
        """
        Readable secret files are warned about; writable ones refused.
        """
        self.assertKept(hardening.modes())

    def test_heartbeatReplay(self):
        """
        Beats re-sent to another group sharing the key, or again, are
        dropped.
        """
        self.assertKept(heartbeatreplay.replay())

    def test_heartbeatFlood(self):
        """
        At least 98% of valid beats arrive among a flood of junk datagrams.
        """
        self.assertKept(heartbeatreplay.flood())
