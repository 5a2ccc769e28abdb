"""
The fault suite's registry and page (L{faults._registry}, L{faults._report}).
"""

from twisted.trial.unittest import SynchronousTestCase

from faults import SCENARIOS, Outcome
from faults._report import rst, text


class ReportTests(SynchronousTestCase):
    """
    The suite's registry and page.
    """

    def test_rst(self):
        """
        The page has a row per outcome and the command that made it, and
        says how to run the suite from a checkout.
        """
        outcomes = [
            Outcome("a", "did a", "saw a", bytesLost=0, rss=(1048576, 2097152), fds=(9, 9)),
            Outcome("b", "did b", "saw b", problems=["it broke"]),
        ]
        page = rst(outcomes, False, 12.0)
        self.assertIn("python -m faults --out doc/reliability.rst", page)
        self.assertIn("From the top of a checkout", page)
        self.assertIn("   * - a", page)
        self.assertIn("1.0 MiB / 2.0 MiB", page)
        self.assertIn("FAIL: it broke", page)
        self.assertNotIn("Still to come", page)
        self.assertIn("saw b", text(outcomes))

    def test_long(self):
        """
        The long variant's page names the command with C{--long}.
        """
        page = rst([], True, 3600.0)
        self.assertIn("python -m faults --long --out doc/reliability.rst", page)
        self.assertIn("(long variant, 3600 s in all)", page)

    def test_registry(self):
        """
        Every scenario has a distinct name and a callable.
        """
        names = [s.name for s in SCENARIOS]
        self.assertEqual(len(names), len(set(names)))
        self.assertTrue(all(callable(s.run) for s in SCENARIOS))
