"""
C{python -m faults [--long] [--out doc/reliability.rst]
[--only NAME]}: run every scenario, print the table, write the page.
"""

import argparse
import sys
import time

from faults._outcome import Outcome
from faults._registry import SCENARIOS
from faults._report import rst, say, text


def main(argv=None):
    """
    Run the suite; the exit status is 1 when a scenario broke a promise.
    """
    parser = argparse.ArgumentParser(
        prog="python -m faults",
        description="Run txlb's fault-injection scenarios with real processes on 127.0.0.1.",
    )
    parser.add_argument("--long", action="store_true", help="the long variant (over an hour)")
    parser.add_argument("--out", help="write the table as reStructuredText to this file")
    parser.add_argument(
        "--only", action="append", default=[], help="run only this scenario (repeatable)"
    )
    args = parser.parse_args(argv)
    chosen = [s for s in SCENARIOS if not args.only or s.name in args.only]
    if not chosen:
        parser.error("no scenario named " + ", ".join(repr(n) for n in args.only))
    started = time.monotonic()
    outcomes = []
    for scenario in chosen:
        say(f"running: {scenario.name}")
        try:
            outcome = scenario.run(long=args.long)
        except Exception as e:
            # One broken scenario is a failed row, not the end of the run.
            outcome = Outcome(scenario.name, "-", problems=[f"{type(e).__name__}: {e}"])
        say(f"  {'pass' if outcome.passed else 'FAIL'}: {outcome.result}")
        outcomes.append(outcome)
    print(text(outcomes))
    if args.out:
        with open(args.out, "w") as f:
            f.write(rst(outcomes, args.long, time.monotonic() - started))
    return 0 if all(o.passed for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
