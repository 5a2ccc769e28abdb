"""
Measure every scheduler at 10, 1,000 and 10,000 hosts: the time of a pick,
of a full rebuild, and the longest the reactor is held by one change of
membership, state or weight. Prints two tables (reStructuredText).

    python bench/schedulers.py [--sizes 10,1000,10000] [--picks 20000]

A pick here is what a connection costs the scheduler: pick, then the
connection-opened and connection-closed events (the best of three runs). A full rebuild is
C{setHosts} with every host, until the structure is complete (a large one
is built in slices on the clock). A change is one call of a hook (a host
added, removed, down, up, or one slow-start step of its weight, 0.2 to
0.3); its block is the longest of that call and of each slice it
scheduled on the clock.

Every figure is CPU time of the benchmark's thread, so that other processes
on a shared machine do not count.
"""

import argparse
import os
import sys
import time
from random import Random

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from twisted.internet.task import Clock  # noqa: E402

from txlb.backend import DOWN, UP  # noqa: E402
from txlb.schedulers import knownSchedulers, makeScheduler  # noqa: E402
from txlb.testing import client, makeHosts  # noqa: E402

CHANGES = ("added", "removed", "down", "up", "weight")


class TimingClock(Clock):
    """
    A L{Clock} that times each call it runs, keeping the longest.
    """

    longest = 0.0

    def callLater(self, delay, f, *args, **kwargs):
        def timed(*args, **kwargs):
            started = time.thread_time()
            try:
                return f(*args, **kwargs)
            finally:
                self.longest = max(self.longest, time.thread_time() - started)

        return Clock.callLater(self, delay, timed, *args, **kwargs)

    def run(self, action, *args):
        """
        Call C{action}, then run every call due now (and those they
        schedule); return the longest single block: the action's or a
        call's.
        """
        self.longest = 0.0
        started = time.thread_time()
        action(*args)
        first = time.thread_time() - started
        self.advance(0)
        return max(first, self.longest)


def hostsFor(size):
    hosts = makeHosts(*([1] * (size + 1)))
    for i, host in enumerate(hosts):
        host.name = f"h{i}"
    return hosts[:size], hosts[size]


def measure(spec, size, picks):
    """
    Return (seconds per pick, seconds of a full rebuild, {change: longest
    block in seconds}) for the scheduler C{spec} with C{size} hosts.
    """
    hosts, spare = hostsFor(size)
    clock = TimingClock()
    scheduler = makeScheduler(spec, clock, Random(1))
    started = time.thread_time()
    scheduler.setHosts(hosts)
    clock.advance(0)
    rebuild = time.thread_time() - started

    clients = [client(i) for i in range(1024)]
    pick = None
    for _ in range(3):
        started = time.thread_time()
        for i in range(picks // 3):
            host = scheduler.pick(clients[i & 1023], ())
            host.open += 1
            scheduler.connectionOpened(host)
            host.open -= 1
            scheduler.connectionClosed(host)
        elapsed = (time.thread_time() - started) / (picks // 3)
        pick = elapsed if pick is None else min(pick, elapsed)

    blocks = {}
    blocks["added"] = clock.run(scheduler.hostAdded, spare)
    blocks["removed"] = clock.run(scheduler.hostRemoved, spare)
    middle = hosts[size // 2]
    middle.state = DOWN
    blocks["down"] = clock.run(scheduler.hostDown, middle)
    middle.effectiveWeight = 0.2
    middle.state = UP
    blocks["up"] = clock.run(scheduler.hostUp, middle)
    middle.effectiveWeight = 0.3
    blocks["weight"] = clock.run(scheduler.weightChanged, middle)
    return pick, rebuild, blocks


def table(header, rows):
    """
    The rows as a reStructuredText simple table.
    """
    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
    rule = "  ".join("=" * w for w in widths)
    lines = [rule, "  ".join(h.ljust(w) for h, w in zip(header, widths)), rule]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in rows]
    lines.append(rule)
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--sizes", default="10,1000,10000")
    parser.add_argument("--picks", type=int, default=20000)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    names = [name for name, _, _ in knownSchedulers()]
    costs, changes = [], []
    for name in names:
        results = [measure(name, size, args.picks) for size in sizes]
        costs.append(
            [name]
            + [f"{p * 1e6:.1f} us" for p, _, _ in results]
            + [_duration(r) for _, r, _ in results]
        )
        for size, (_, _, blocks) in zip(sizes, results):
            changes.append([name, f"{size:,}"] + [_duration(blocks[c]) for c in CHANGES])
    print(table(["scheduler"] + [f"pick @{s:,}" for s in sizes] + [f"rebuild @{s:,}" for s in sizes], costs))
    print()
    print(table(["scheduler", "hosts"] + [f"{c}" for c in CHANGES], changes))


def _duration(seconds):
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


if __name__ == "__main__":
    main()
