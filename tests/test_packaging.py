"""
The package as pip installs it: the twistd plugin where Twisted looks, and
nothing that would shadow Twisted's own plugin package.
"""

import os
import subprocess
import sys
import tempfile
import zipfile

from twisted.trial.unittest import SynchronousTestCase

from tests.support import ROOT


class WheelTests(SynchronousTestCase):
    def test_wheelHoldsPlugin(self):
        """
        The wheel installs twisted/plugins/txlb_plugin.py into site-packages,
        no twisted/plugins/__init__.py, the txlb package and the console
        script; tests are not installed.
        """
        out = tempfile.mkdtemp()
        subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
             "-w", out, ROOT],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        [wheel] = [f for f in os.listdir(out) if f.endswith(".whl")]
        names = zipfile.ZipFile(os.path.join(out, wheel)).namelist()
        self.assertIn("twisted/plugins/txlb_plugin.py", names)
        self.assertNotIn("twisted/plugins/__init__.py", names)
        self.assertNotIn("twisted/__init__.py", names)
        self.assertIn("txlb/relay.py", names)
        self.assertFalse([n for n in names if n.startswith("tests/")])
        entryPoints = [n for n in names if n.endswith("entry_points.txt")]
        with zipfile.ZipFile(os.path.join(out, wheel)) as z:
            self.assertIn("txlb = txlb.cli:main", z.read(entryPoints[0]).decode())
