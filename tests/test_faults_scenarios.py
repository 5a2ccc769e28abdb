"""
Each fault-suite scenario, CI-sized, with real processes on 127.0.0.1:
the same code C{python -m faults} runs for C{doc/reliability.rst}.
"""

from twisted.trial.unittest import SynchronousTestCase

from faults import accounting, descriptors, integrity, midstream, resets, slowpeers
from faults import stopping, timeouts


class ScenarioMixin:
    """
    Runs a scenario and fails with its broken promises.
    """

    def assertKept(self, outcome):
        """
        Fail unless C{outcome} broke no promise; return it.
        """
        self.assertEqual(list(outcome.problems), [], outcome.result)
        return outcome


class IntegrityTests(ScenarioMixin, SynchronousTestCase):
    """
    Bytes through txlb while backends die.
    """

    def test_killsLoseNothing(self):
        """
        While backends are killed and restarted, no connection gets
        corrupted bytes or hangs, and new connections succeed afterwards.
        """
        outcome = self.assertKept(integrity.run())
        self.assertEqual(outcome.bytesLost, 0)
        self.assertEqual(outcome.failed, 0)

    def test_killsLoseNothingOnNormalPath(self):
        """
        The same with every byte on Twisted's normal path (--no-splice).
        """
        outcome = self.assertKept(integrity.normal())
        self.assertEqual(outcome.bytesLost, 0)
        self.assertEqual(outcome.failed, 0)

    def test_midStream(self):
        """
        The streams of a killed backend close within a second; the others
        still echo 1 MiB intact.
        """
        outcome = self.assertKept(midstream.run())
        self.assertEqual(outcome.bytesLost, 0)

    def test_resets(self):
        """
        On the lean path, Twisted's transports and without splice, a reply
        cut by the backend's reset reaches the client as a reset, and a
        client's reset reaches the backend as one.
        """
        outcome = self.assertKept(resets.run())
        self.assertEqual(outcome.failed, 0)


class TimeoutTests(ScenarioMixin, SynchronousTestCase):
    """
    Backends that would leave a client hanging.
    """

    def test_silentBackend(self):
        """
        Clients of a backend that never answers are closed by the idle
        timeout, between 1 and 3 s, none left hanging.
        """
        self.assertKept(timeouts.silent())

    def test_fullBacklog(self):
        """
        A host that never completes the handshake costs a client one connect
        timeout, after which it is failed over; nobody hangs.
        """
        outcome = self.assertKept(timeouts.backlog())
        self.assertEqual(outcome.failed, 0)


class SlowPeerTests(ScenarioMixin, SynchronousTestCase):
    """
    Backpressure against peers that do not read.
    """

    def test_slowReadingClient(self):
        """
        100 MB sent to a client that does not read grows txlb's RSS by less
        than 16 MiB, and all of it arrives once the client reads.
        """
        outcome = self.assertKept(slowpeers.reader())
        self.assertEqual(outcome.bytesLost, 0)

    def test_slowReadingBackend(self):
        """
        A client writing into a backend that never reads stalls instead of
        filling txlb's memory; the idle timeout frees both connections.
        """
        self.assertKept(slowpeers.writer())


class DescriptorTests(ScenarioMixin, SynchronousTestCase):
    """
    Many descriptors, and too few.
    """

    def test_idleConnections(self):
        """
        10,000 idle connections (as many as the hard limit allows) are held
        by a txlb started with a soft limit of 1024 (it raises the limit),
        and they still relay.
        """
        self.assertKept(descriptors.idle())

    def test_emfile(self):
        """
        Out of descriptors, txlb keeps running, logs about it at most once a
        second, and serves new clients once descriptors are free.
        """
        self.assertKept(descriptors.emfile())


class AccountingTests(ScenarioMixin, SynchronousTestCase):
    """
    Counters after abuse, read through the admin of a real twistd.
    """

    def test_flapping(self):
        """
        After load over a flapping backend every open counter is 0 and every
        accepted client is counted once.
        """
        self.assertKept(accounting.flapping())

    def test_garbage(self):
        """
        Garbage, instant closes and resets leave no open count behind and
        do not disturb the echoes of other clients.
        """
        self.assertKept(accounting.garbage())


class StoppingTests(ScenarioMixin, SynchronousTestCase):
    """
    Stopping under load.
    """

    def test_sigtermDrains(self):
        """
        On SIGTERM, connections in flight finish intact, new ones are
        refused, an idle one is cut at the drain timeout, and txlb exits.
        """
        outcome = self.assertKept(stopping.run())
        self.assertEqual(outcome.bytesLost, 0)
