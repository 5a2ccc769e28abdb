"""
The package as pip installs it: the twistd plugin where Twisted looks,
nothing that would shadow Twisted's own plugin package, nothing of the
checkout's tests or fault suite; and every module it installs imports in a
fresh virtualenv, away from the checkout.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

import pytest
from twisted.trial.unittest import SynchronousTestCase

from tests.support import ROOT


class WheelTests(SynchronousTestCase):
    def test_wheelHoldsPlugin(self):
        """
        The wheel installs twisted/plugins/txlb_plugin.py into site-packages,
        no twisted/plugins/__init__.py, the txlb package and the console
        script; tests, the fault suite and the benchmark are not installed.
        """
        wheel = buildWheel(self)
        names = zipfile.ZipFile(wheel).namelist()
        self.assertIn("twisted/plugins/txlb_plugin.py", names)
        self.assertNotIn("twisted/plugins/__init__.py", names)
        self.assertNotIn("twisted/__init__.py", names)
        self.assertIn("txlb/relay.py", names)
        self.assertFalse([n for n in names if n.startswith("tests/")])
        self.assertFalse([n for n in names if n.startswith(("faults/", "bench/"))])
        entryPoints = [n for n in names if n.endswith("entry_points.txt")]
        with zipfile.ZipFile(wheel) as z:
            self.assertIn("txlb = txlb.cli:main", z.read(entryPoints[0]).decode())


def buildWheel(testCase):
    """
    Build the wheel (C{pip wheel --no-deps}) from a clean copy of the
    checkout, in a directory removed at C{testCase}'s cleanup; return its
    path. The copy leaves out what earlier builds left behind (C{build/}
    would put files since deleted into the wheel) and keeps the checkout
    free of new ones.
    """
    work = tempfile.mkdtemp(prefix="txlb-wheel-")
    testCase.addCleanup(shutil.rmtree, work, True)
    source = os.path.join(work, "source")
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", "build", "dist", "*.egg-info", "__pycache__", ".hypothesis", "_trial_temp*",
    ))
    out = os.path.join(work, "wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", out, source],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    [wheel] = os.listdir(out)
    return os.path.join(out, wheel)


def installedModules(wheel):
    """
    The dotted names of the Python modules C{wheel} installs, from its
    listing (packages by their C{__init__}).
    """
    modules = []
    for name in zipfile.ZipFile(wheel).namelist():
        top = name.split("/")[0]
        if not name.endswith(".py") or top.endswith((".dist-info", ".data")):
            continue
        parts = name[: -len(".py")].split("/")
        if parts[-1] == "__init__":
            parts.pop()
        modules.append(".".join(parts))
    return sorted(modules)


# Run by the virtualenv's Python: import each module named on the command
# line; print, as JSON, where each came from or why it did not import.
IMPORT_EACH = """
import importlib, json, sys, traceback
found = {}
for name in sys.argv[1:]:
    try:
        found[name] = {"file": importlib.import_module(name).__file__}
    except BaseException:
        found[name] = {"error": traceback.format_exc()}
print(json.dumps({"prefix": sys.prefix, "modules": found}))
"""


@pytest.mark.slow
class InstalledWheelTests(SynchronousTestCase):
    """
    The wheel installed into a fresh virtualenv, used from outside the
    checkout.
    """

    def test_everyModuleImports(self):
        """
        Every module the wheel installs imports, from the virtualenv's own
        copy, in a Python started in a directory outside the checkout with
        no C{PYTHONPATH}: nothing installed needs the checkout (its tests,
        its fault suite).

        The virtualenv sees the system's site-packages for txlb's
        dependencies, where txlb may also be installed in editable mode
        (pointing at some checkout); so the wheel is force-installed into the
        virtualenv, whose site-packages come first on the path, Python runs
        with C{-I} (no C{PYTHONPATH}, no current directory, no user site),
        and each module's file is checked to be the virtualenv's.
        """
        wheel = buildWheel(self)
        modules = installedModules(wheel)
        self.assertIn("txlb", modules)
        self.assertIn("twisted.plugins.txlb_plugin", modules)
        elsewhere = tempfile.mkdtemp(prefix="txlb-venv-")
        self.addCleanup(shutil.rmtree, elsewhere, True)
        venv = os.path.join(elsewhere, "venv")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PIP_"))}
        subprocess.run(
            [sys.executable, "-m", "venv", "--system-site-packages", venv],
            check=True, cwd=elsewhere, env=env,
        )
        python = os.path.join(venv, "bin", "python")
        subprocess.run(
            [python, "-I", "-m", "pip", "install", "-q", "--no-deps", "--no-index",
             "--force-reinstall", "--disable-pip-version-check", wheel],
            check=True, cwd=elsewhere, env=env, capture_output=True,
        )
        result = subprocess.run(
            [python, "-I", "-c", IMPORT_EACH, *modules],
            cwd=elsewhere, env=env, capture_output=True, text=True, timeout=120,
        )
        self.assertEqual(result.returncode, 0, result.stderr)
        report = json.loads(result.stdout)
        failed = {n: m["error"] for n, m in report["modules"].items() if "error" in m}
        self.assertFalse(failed, "\n".join(f"{n}: {e}" for n, e in failed.items()))
        prefix = os.path.realpath(report["prefix"])
        self.assertEqual(prefix, os.path.realpath(venv))
        checkout = os.path.realpath(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

        def ownCopy(name, path):
            path = os.path.realpath(path)
            if path.startswith(prefix + os.sep):
                return True
            # twisted.plugins is Twisted's package, searched from the
            # system's Twisted first: where txlb is installed there too
            # (not in editable mode) the same plugin file is found there.
            # It must still not come from the checkout.
            return name.startswith("twisted.plugins.") and not path.startswith(checkout + os.sep)

        foreign = {
            name: module["file"]
            for name, module in report["modules"].items()
            if not ownCopy(name, module["file"])
        }
        self.assertFalse(foreign, f"imported from outside {prefix}: {foreign}")
