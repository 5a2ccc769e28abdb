"""
The runner, C{python -m faults}, as a user runs it.
"""

import os
import sys
import tempfile

from twisted.trial.unittest import SynchronousTestCase

from tests.support import Process


class RunnerTests(SynchronousTestCase):
    """
    C{python -m faults}.
    """

    def test_writesPage(self):
        """
        With C{--only} and C{--out} it runs that scenario, prints its row,
        exits 0 when it passed and writes the page.
        """
        fd, path = tempfile.mkstemp(suffix=".rst")
        os.close(fd)
        self.addCleanup(os.unlink, path)
        runner = Process(
            [sys.executable, "-m", "faults", "--only", "bad .tac files and flags",
             "--out", path]
        )
        self.assertEqual(runner.wait(60), 0, runner.output)
        self.assertIn("verdict: pass", runner.output)
        with open(path) as f:
            page = f.read()
        self.assertIn("   * - bad .tac files and flags", page)
        self.assertNotIn("Still to come", page)

    def test_unknownScenario(self):
        """
        An unknown scenario name is one sentence and status 2.
        """
        runner = Process([sys.executable, "-m", "faults", "--only", "nope"])
        self.assertEqual(runner.wait(30), 2)
        self.assertIn("no scenario named 'nope'", runner.output)
        self.assertNotIn("Traceback", runner.output)
