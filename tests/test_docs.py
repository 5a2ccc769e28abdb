"""
The documentation builds with Sphinx, warnings as errors; it names every
flag of twistd txlb, every admin method and every .tac object in its
reference page; the licence is there.
"""

import os
import shutil
import subprocess
import sys
import tempfile

import attr
from twisted.trial.unittest import SkipTest, SynchronousTestCase

from tests.support import ROOT, environment

DOC = os.path.join(ROOT, "doc")


def reference():
    with open(os.path.join(DOC, "reference.rst"), encoding="utf-8") as f:
        return f.read()


class BuildTests(SynchronousTestCase):
    def test_sphinxBuildsWithoutWarnings(self):
        """
        sphinx-build -W (warnings are errors) builds doc/ as HTML.
        """
        try:
            import sphinx  # noqa: F401
        except ImportError:
            raise SkipTest("Sphinx is not installed (pip install '.[test]')")
        out = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, out, True)
        result = subprocess.run(
            [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", DOC, out],
            capture_output=True, text=True, env=environment(), timeout=300,
        )
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        for page in ("index", "quickstart", "reference", "admin"):
            self.assertTrue(os.path.exists(os.path.join(out, f"{page}.html")), page)

    def test_license(self):
        """
        LICENSE holds the MIT licence setup.cfg declares.
        """
        with open(os.path.join(ROOT, "LICENSE"), encoding="utf-8") as f:
            self.assertIn("MIT License", f.read())


class ReferenceTests(SynchronousTestCase):
    def test_everyFlag(self):
        """
        doc/reference.rst names every flag of twistd txlb.
        """
        from txlb.tap import Options

        text = reference()
        options = Options()
        names = [f[0] for f in options.optFlags] + [p[0] for p in options.optParameters]
        names += [n[len("opt_"):].replace("_", "-") for n in dir(options)
                  if n.startswith("opt_") and len(n) > len("opt_") + 1]
        missing = sorted({n for n in names if f"--{n}" not in text} - {"help", "version"})
        self.assertEqual(missing, [])

    def test_everyObjectAndSetting(self):
        """
        doc/reference.rst has a section for every value object of
        txlb.config and names each of its settings.
        """
        import txlb.config as config

        text = reference()
        for name in dir(config):
            cls = getattr(config, name)
            if isinstance(cls, type) and attr.has(cls):
                self.assertIn(f"``{name}(", text, name)
                for field in attr.fields(cls):
                    self.assertIn(f"``{field.name}``", text, f"{name}.{field.name}")

    def test_everyAdminMethod(self):
        """
        doc/reference.rst and doc/admin.rst name every XML-RPC method.
        """
        from txlb.admin import METHODS

        with open(os.path.join(DOC, "admin.rst"), encoding="utf-8") as f:
            admin = f.read()
        text = reference()
        for method in METHODS:
            self.assertIn(method, admin, method)
            self.assertIn(method, text, method)


class WordingTests(SynchronousTestCase):
    def test_noHistory(self):
        """
        The docs describe the software as it is, not the history of its
        making.
        """
        pages = [os.path.join(DOC, n) for n in os.listdir(DOC) if n.endswith(".rst")]
        pages.append(os.path.join(ROOT, "README.rst"))
        for page in pages:
            with open(page, encoding="utf-8") as f:
                text = f.read()
            for phrase in ("TODO", "the issue", "(was ", "issue's"):
                self.assertNotIn(phrase, text, f"{os.path.basename(page)}: {phrase!r}")
