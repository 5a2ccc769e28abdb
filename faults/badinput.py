"""
Bad C{.tac} files and bad flags: each must end C{twistd txlb} with one
clear sentence naming the problem, a non-zero status and no traceback.
"""

import os
import tempfile
import time

import attr

from tests.support import Twistd
from faults._outcome import Outcome, check

NAME = "bad .tac files and flags"

_GOOD_HEAD = "from txlb.config import Balancer, Group, Host, Service\nfrom txlb.tac import application\n"


def _tac(body):
    return _GOOD_HEAD + "application = application(Balancer(services=[%s]))\n" % body


@attr.s(frozen=True)
class Case:
    """
    One bad input: C{args} for C{twistd txlb} (C{{tac}} is replaced by the
    path of a file holding C{tac}), and a fragment the sentence must hold.
    """

    name = attr.ib()
    args = attr.ib()
    expected = attr.ib()
    tac = attr.ib(default=None)


CASES = [
    Case("missing .tac", ["--config", "/nonexistent/x.tac"], "cannot read /nonexistent/x.tac"),
    Case("syntax error", ["--config", "{tac}"], "line 1: ", "this is not python(\n"),
    Case("exception in .tac", ["--config", "{tac}"], "ZeroDivisionError", "1 / 0\n"),
    Case("no application", ["--config", "{tac}"], "defines no 'application'", "x = 1\n"),
    Case("application of wrong type", ["--config", "{tac}"], "not a twistd Application", "application = 3\n"),
    Case(
        "negative weight",
        ["--config", "{tac}"],
        "weight must be at least 0",
        _tac('Service("s", listen=["tcp:0"], groups=[Group("g", hosts=[Host("a", "127.0.0.1:1", weight=-1)])])'),
    ),
    Case(
        "unknown scheduler",
        ["--config", "{tac}"],
        "nosuchscheduler",
        _tac('Service("s", listen=["tcp:0"], groups=[Group("g", scheduler="nosuchscheduler", hosts=[Host("a", "127.0.0.1:1")])])'),
    ),
    Case(
        "negative drainTimeout",
        ["--config", "{tac}"],
        "drainTimeout must be at least 0",
        _tac('Service("s", listen=["tcp:0"], drainTimeout=-1, groups=[Group("g", hosts=[Host("a", "127.0.0.1:1")])])'),
    ),
    Case("no backend", ["--listen", "tcp:0"], "nothing to balance"),
    Case("bad backend option", ["--backend", "127.0.0.1:1,heavy"], "unknown option 'heavy'"),
    Case("bad connect timeout", ["--backend", "127.0.0.1:1", "--connect-timeout", "soon"], "--connect-timeout must be a number"),
    Case("bad drain timeout", ["--backend", "127.0.0.1:1", "--drain-timeout", "-2"], "--drain-timeout must be 0 or more seconds"),
    Case("--config with --backend", ["--config", "x.tac", "--backend", "127.0.0.1:1"], "drop --backend"),
]


def runCase(case):
    """
    Run C{twistd txlb} on one bad input; return C{(status, output)}.
    """
    args = list(case.args)
    path = None
    if case.tac is not None:
        fd, path = tempfile.mkstemp(suffix=".tac")
        with os.fdopen(fd, "w") as f:
            f.write(case.tac)
        args = [path if a == "{tac}" else a for a in args]
    try:
        process = Twistd(["txlb"] + args)
        status = process.wait(30)
    finally:
        if path is not None:
            os.unlink(path)
    return status, process.output


def problemWith(case, status, output):
    """
    What is wrong with how C{twistd txlb} answered C{case}, or None.
    """
    if status == 0:
        return f"{case.name}: exit status 0"
    if "Traceback" in output:
        return f"{case.name}: a traceback"
    if case.expected not in output:
        return f"{case.name}: no {case.expected!r} in {output!r}"
    return None


def run(long=False):
    """
    Every case in L{CASES} through a real C{twistd}.
    """
    started = time.monotonic()
    problems = []
    for case in CASES:
        found = problemWith(case, *runCase(case))
        check(problems, found is None, found)
    return Outcome(
        NAME,
        f"{len(CASES)} bad inputs ({len(CASES) - 5} .tac files, 5 flag sets) given to "
        f"a real twistd txlb, {time.monotonic() - started:.0f} s",
        f"{len(CASES) - len(problems)}/{len(CASES)} ended with one clear sentence, "
        "a non-zero status and no traceback",
        failed=len(problems),
        problems=problems,
    )
