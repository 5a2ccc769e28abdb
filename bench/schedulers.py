"""
Measure every scheduler's pick time and rebuild time at 10, 1,000 and
10,000 hosts, and print a table (reStructuredText).

    python bench/schedulers.py [--sizes 10,1000,10000] [--picks 20000]

A pick here is what a connection costs the scheduler: pick, then the
connection-opened and connection-closed events.
"""

import argparse
import os
import sys
import time
from random import Random

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from twisted.internet.task import Clock  # noqa: E402

from txlb.schedulers import knownSchedulers, makeScheduler  # noqa: E402
from txlb.testing import client, makeHosts  # noqa: E402


def measure(spec, size, picks):
    hosts = makeHosts(*([1] * size))
    for i, host in enumerate(hosts):
        host.name = f"h{i}"
    scheduler = makeScheduler(spec, Clock(), Random(1))
    started = time.perf_counter()
    scheduler.setHosts(hosts)
    rebuild = time.perf_counter() - started
    clients = [client(i) for i in range(1024)]
    started = time.perf_counter()
    for i in range(picks):
        host = scheduler.pick(clients[i & 1023], ())
        host.open += 1
        scheduler.connectionOpened(host)
        host.open -= 1
        scheduler.connectionClosed(host)
    pick = (time.perf_counter() - started) / picks
    return pick, rebuild


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--sizes", default="10,1000,10000")
    parser.add_argument("--picks", type=int, default=20000)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    names = [name for name, _, _ in knownSchedulers()]
    header = ["scheduler"] + [f"pick @{s:,}" for s in sizes] + [f"rebuild @{s:,}" for s in sizes]
    rows = []
    for name in names:
        results = [measure(name, size, args.picks) for size in sizes]
        rows.append(
            [name]
            + [f"{p * 1e6:.1f} us" for p, _ in results]
            + [_duration(r) for _, r in results]
        )
    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
    rule = "  ".join("=" * w for w in widths)
    print(rule)
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    print(rule)
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)))
    print(rule)


def _duration(seconds):
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


if __name__ == "__main__":
    main()
