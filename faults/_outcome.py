"""
What a scenario did and how it came out: one row of the table.
"""

import attr


def _mib(value):
    if value is None:
        return "-"
    return f"{value / 1048576:.1f} MiB"


def _pair(pair, show):
    before, after = pair
    if before is None and after is None:
        return "-"
    return f"{show(before)} / {show(after)}"


@attr.s(frozen=True)
class Outcome:
    """
    One scenario's row.

    @ivar scenario: its name.
    @ivar done: what was done, in words with counts, sizes and duration.
    @ivar bytesLost: bytes sent that did not arrive, where that can happen
        only by a defect (None: not applicable).
    @ivar failed: client connections that failed unexpectedly.
    @ivar rss: txlb's resident memory C{(before, after)} in bytes.
    @ivar fds: txlb's open descriptors C{(before, after)}.
    @ivar result: what was observed, in words.
    @ivar problems: each broken promise, in words; none means it passed.
    """

    scenario = attr.ib()
    done = attr.ib()
    result = attr.ib(default="")
    bytesLost = attr.ib(default=None)
    failed = attr.ib(default=0)
    rss = attr.ib(default=(None, None))
    fds = attr.ib(default=(None, None))
    problems = attr.ib(default=(), converter=tuple)

    @property
    def passed(self):
        """
        True when no promise was broken.
        """
        return not self.problems

    def cells(self):
        """
        The row as strings, in the order of L{COLUMNS}.
        """
        lost = "-" if self.bytesLost is None else str(self.bytesLost)
        verdict = "pass" if self.passed else "FAIL: " + "; ".join(self.problems)
        return [
            self.scenario,
            self.done,
            self.result,
            lost,
            str(self.failed),
            _pair(self.rss, _mib),
            _pair(self.fds, lambda n: "-" if n is None else str(n)),
            verdict,
        ]


COLUMNS = [
    "scenario",
    "what was done",
    "what was seen",
    "bytes lost",
    "failed conns",
    "RSS before / after",
    "fds before / after",
    "verdict",
]


def check(problems, condition, problem):
    """
    Append C{problem} to C{problems} unless C{condition} holds.
    """
    if not condition:
        problems.append(problem)


def checkReleased(problems, before, after):
    """
    Note a problem unless the descriptors of C{after} (C{(rss, fds)}) are
    back to those of C{before}.
    """
    check(problems, after[1] <= before[1], f"descriptors {before[1]} -> {after[1]}")
