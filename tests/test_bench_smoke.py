"""
The benchmark runs (short mode) and prints every row. No timing is
asserted: performance is measured by bench/run.py, not by tests.
"""

import shutil
import subprocess
import sys

import pytest
from twisted.trial.unittest import SkipTest, SynchronousTestCase

from tests.support import ROOT


@pytest.mark.slow
class BenchmarkSmokeTests(SynchronousTestCase):
    def test_shortRun(self):
        """
        bench/run.py --short prints the side-by-side table with each
        workload and each of direct, haproxy and txlb.
        """
        for tool in ("haproxy", "nginx", "wrk", "taskset"):
            if not (shutil.which(tool) or shutil.which(tool, path="/usr/sbin")):
                raise SkipTest(f"{tool} is not installed (bench/setup.sh installs it)")
        result = subprocess.run(
            [sys.executable, "bench/run.py", "--short", "--no-write", "--no-pypy", "--idle", "200"],
            cwd=ROOT, capture_output=True, text=True, timeout=300,
        )
        self.assertEqual(result.returncode, 0, result.stderr[-2000:])
        for row in ("new connections/s", "keep-alive requests/s", "bulk MB/s", "KiB per idle connection"):
            self.assertIn(row, result.stdout)
        self.assertIn("txlb / haproxy", result.stdout)
        self.assertNotIn("Traceback", result.stdout + result.stderr)
