"""
Secret files' permissions, checked as ssh checks a private key's.
"""

from twisted.trial.unittest import SynchronousTestCase

from txlb._filemode import secretFileProblem
from txlb.errors import ConfigError


class SecretFileTests(SynchronousTestCase):
    def test_private(self):
        """
        A file only its owner or group may read is fine.
        """
        for mode in (0o100600, 0o100400, 0o100640, 0o100660):
            self.assertIsNone(secretFileProblem("/k", "key file", mode))

    def test_worldReadable(self):
        """
        A file every user may read gives a warning naming it, its mode and
        the fix.
        """
        warning = secretFileProblem("/k", "key file", 0o100644)
        self.assertEqual(
            warning, "the key file /k is readable by every user (mode 0644); "
            "run chmod 600 /k so that only its owner can read it",
        )

    def test_worldWritable(self):
        """
        A file every user may write is refused with one sentence.
        """
        e = self.assertRaises(ConfigError, secretFileProblem, "/k", "key file", 0o100666)
        self.assertIn("writable by every user (mode 0666)", str(e))
        self.assertNotIn("\n", str(e))
