"""
The table: printed for a person, and written as C{doc/reliability.rst}.
"""

import platform
import sys
import time

from faults._outcome import COLUMNS


def text(outcomes):
    """
    The outcomes as plain text, one block per scenario.
    """
    out = []
    for outcome in outcomes:
        for column, cell in zip(COLUMNS, outcome.cells()):
            out.append(f"{column:>20}: {cell}")
        out.append("")
    return "\n".join(out)


def _cell(value):
    return value.replace("|", "/").replace("*", "\\*").replace("`", "'")


def _listTable(title, header, rows, widths):
    lines = [f".. list-table:: {title}", "   :header-rows: 1", f"   :widths: {widths}", ""]
    for row in [header] + rows:
        first = True
        for cell in row:
            lines.append(("   * - " if first else "     - ") + _cell(cell))
            first = False
    return lines + [""]


def rst(outcomes, long, seconds):
    """
    C{doc/reliability.rst}: how the figures were made, and the table.
    """
    variant = "long" if long else "CI-sized"
    command = "python -m faults" + (" --long" if long else "")
    title = "Reliability: the fault suite"
    lines = [
        title,
        "=" * len(title),
        "",
        "txlb's promises for when things go wrong are checked by a suite of real",
        "processes on 127.0.0.1: a real ``twistd txlb`` (whose counters, where a row",
        "checks them, are read through its admin's ``getStatus``), real backend",
        "processes that are killed, stalled and flapped, and real client sockets.",
        "Each scenario is also a test (``tests/test_faults_*.py``).",
        "",
        "The suite lives in ``faults/``, beside ``txlb/`` in a checkout of the",
        "source; it is not installed with txlb (it builds on the checkout's",
        "``tests/support.py``). From the top of a checkout, with txlb's",
        "dependencies installed::",
        "",
        "    python -m faults",
        "    python -m faults --only soak --only 'backend dies mid-stream'",
        "    python -m faults --long",
        "",
        "run every scenario (about two minutes), only the scenarios named (as in the",
        "table's first column), or the long variant (at least 1 GiB and 100 kills,",
        "ten times the clients elsewhere, a one-hour soak). Each prints the table;",
        "``--out FILE`` also writes it as this page. The exit status is 1 when a",
        "scenario broke a promise.",
        "",
        "This page is generated; do not edit it by hand. It comes from::",
        "",
        f"    {command} --out doc/reliability.rst",
        "",
        f"run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} ({variant} variant, "
        f"{seconds:.0f} s in all) on Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}, {platform.machine()}.",
        "",
        "RSS and descriptors are txlb's, before the scenario's load",
        "and after it ended and its connections closed, unless the row says otherwise.",
        "",
    ]
    lines += _listTable(
        "Scenarios",
        COLUMNS,
        [o.cells() for o in outcomes],
        "10 22 26 6 6 10 8 12",
    )
    return "\n".join(lines)


def say(line):
    """
    Progress on stderr, so that stdout is only the table.
    """
    print(line, file=sys.stderr, flush=True)
