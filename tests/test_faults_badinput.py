"""
Bad C{.tac} files and bad flags given to a real C{twistd txlb}: one clear
sentence each, a non-zero status, no traceback. One test per case in
L{faults.badinput.CASES}.
"""

from twisted.trial.unittest import SynchronousTestCase

from faults.badinput import CASES, problemWith, runCase


class BadInputTests(SynchronousTestCase):
    """
    Filled in below with C{test_<case>} for every case.
    """


def _caseTest(case):
    def test(self):
        status, output = runCase(case)
        self.assertIsNone(problemWith(case, status, output))
        sentences = [l for l in output.splitlines() if l.startswith("twistd txlb: ")]
        self.assertEqual(len(sentences), 1, output)

    test.__name__ = "test_" + "".join(c if c.isalnum() else "_" for c in case.name)
    test.__doc__ = f"{case.name}: one sentence containing {case.expected!r}, no traceback."
    return test


for _case in CASES:
    _test = _caseTest(_case)
    setattr(BadInputTests, _test.__name__, _test)
