"""
How long a change made through one node's admin takes to run on another
node of a fleet: a real three-member etcd cluster and two real txlb nodes
on 127.0.0.1.

    python bench/propagation.py [--changes N]

For each change, node 1's ``setWeight`` call is timed (it answers once the
change is in etcd and node 1 runs it), then node 2's ``getConfig`` is read
every millisecond until it shows the new weight. Prints the median, 90th
percentile and maximum of both.
"""

import argparse
import os
import statistics
import sys
import time
import xmlrpc.client

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tests.etcdcluster import Cluster  # noqa: E402
from tests.support import Twistd  # noqa: E402

FLAGS = ["--listen", "tcp:0:interface=127.0.0.1", "--admin", "tcp:0:interface=127.0.0.1"]


class _Cleanups:
    """
    Collects what the test helpers ask to be cleaned up.
    """

    def __init__(self):
        self.calls = []

    def addCleanup(self, f, *args):
        self.calls.append((f, args))

    def run(self):
        for f, args in reversed(self.calls):
            f(*args)


def weight(rpc):
    """
    Host a's weight as a node runs it.
    """
    return rpc.getConfig()["services"]["default"]["groups"]["default"]["hosts"]["a"]["weight"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--changes", type=int, default=50)
    args = parser.parse_args()
    cleanups = _Cleanups()
    nodes = []
    try:
        cluster = Cluster(cleanups, 3)
        for extra in (["--backend", "a=127.0.0.1:9"], []):
            node = Twistd(["txlb", *FLAGS, "--etcd", cluster.endpoints, *extra])
            nodes.append(node)
            node.waitFor(r"etcd: connected to")
        rpc1, rpc2 = [xmlrpc.client.ServerProxy("http://%s:%d/RPC2" % n.address("admin")) for n in nodes]
        written, seen = [], []
        for i in range(args.changes):
            w = 2 + i % 50
            start = time.perf_counter()
            rpc1.setWeight("default", "default", "a", w)
            written.append(time.perf_counter() - start)
            while weight(rpc2) != w:
                time.sleep(0.001)
            seen.append(time.perf_counter() - start)
    finally:
        for node in nodes:
            node.stop()
        cleanups.run()

    def line(what, values):
        values = sorted(values)
        p90 = values[int(0.9 * (len(values) - 1))]
        return (f"{what}: median {statistics.median(values) * 1000:.1f} ms, 90% {p90 * 1000:.1f} ms, "
                f"max {values[-1] * 1000:.1f} ms")

    print(f"{args.changes} changes through node 1, three etcd members, two nodes on one machine")
    print(line("node 1 answered (written and running there)", written))
    print(line("node 2 runs it", seen))


if __name__ == "__main__":
    main()
