"""
Unit tests for the C{twistd txlb} options (L{txlb.tap.Options}).
"""

from twisted.trial.unittest import SynchronousTestCase

from txlb.tap import Options


class DrainTimeoutFlagTests(SynchronousTestCase):
    """
    C{--drain-timeout}.
    """

    def test_flag(self):
        """
        C{--drain-timeout} reaches the service; a bad value is one sentence.
        """
        options = Options()
        options.parseOptions(["--backend", "127.0.0.1:1", "--drain-timeout", "2"])
        self.assertEqual(options.service.proxies["default"].drainTimeout, 2.0)
        with self.assertRaises(SystemExit) as e:
            Options().parseOptions(["--backend", "127.0.0.1:1", "--drain-timeout", "x"])
        self.assertIn("--drain-timeout must be 0 or more seconds", str(e.exception))
