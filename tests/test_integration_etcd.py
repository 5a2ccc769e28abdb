"""
A fleet: two real C{twistd txlb} nodes sharing their services through a
real three-member etcd cluster on 127.0.0.1.
"""

import signal
import time
import xmlrpc.client

import pytest
from twisted.trial.unittest import SkipTest, SynchronousTestCase

from tests.etcdcluster import SKIP, Cluster
from tests.support import TXLB, Process, name, request, startBackend, startTwistd
from tests.test_integration_admin import TXLBCTL, adminURL

LISTEN = ["--listen", "tcp:0:interface=127.0.0.1"]
ADMIN = ["--admin", "tcp:0:interface=127.0.0.1"]


def until(predicate, timeout=15.0, what="a condition"):
    """
    Wait until C{predicate()} holds, checking every 10 ms what other
    processes do; return how long it took.
    """
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.01)
    return time.monotonic() - start


def hosts(rpc, service="default", group="default"):
    """
    The host names a node runs in a group.
    """
    return sorted(rpc.getConfig()["services"][service]["groups"][group]["hosts"])


class FleetMixin:
    """
    Node 1 seeds the prefix with its backend A; node 2 starts with no
    backend (and C{workers} workers) and takes the pool from etcd.
    """

    scheduler = "roundrobin"
    workers = 1

    def setUp(self):
        if SKIP:
            raise SkipTest(SKIP)
        self.cluster = Cluster(self, 3)
        self.a = startBackend(self, name, "A")
        self.b = startBackend(self, name, "B")
        etcd = ["--etcd", self.cluster.endpoints, "--scheduler", self.scheduler]
        self.node1, self.address1 = startTwistd(
            self, ["txlb", *LISTEN, *ADMIN, *etcd, "--backend", f"a={self.a.address}"])
        self.node1.waitFor(r"seeded it with this node's description")
        self.node2, self.address2 = startTwistd(
            self, ["txlb", *LISTEN, *ADMIN, *etcd, "--workers", str(self.workers)])
        self.node2.waitFor(r"holds a description \(1 services: default\)")
        self.rpc1 = xmlrpc.client.ServerProxy(adminURL(self.node1))
        self.rpc2 = xmlrpc.client.ServerProxy(adminURL(self.node2))
        until(lambda: hosts(self.rpc2) == ["a"], what="node 2 to take node 1's pool")

    def test_changeOnOneNodeServesOnTheOther(self):
        """
        A host added and one removed through node 1's admin serve on node 2
        within a second; the store says it is connected on both.
        """
        self.assertEqual(request(self.address2), b"A\n")
        start = time.monotonic()
        self.assertTrue(self.rpc1.addHost("default", "default", "b", self.b.address))
        self.assertTrue(self.rpc1.delHost("default", "default", "a"))
        until(lambda: hosts(self.rpc2) == ["b"], what="node 2 to follow")
        self.assertLess(time.monotonic() - start, 1.0)
        self.assertEqual({request(self.address2) for _ in range(20)}, {b"B\n"})
        self.assertEqual({request(self.address1) for _ in range(6)}, {b"B\n"})
        for rpc in (self.rpc1, self.rpc2):
            self.assertEqual(rpc.getStatus()["etcd"]["state"], "connected")


class FleetTests(FleetMixin, SynchronousTestCase):
    """
    Two lone nodes: changes, leased hosts, lost members, compaction.
    """

    def test_concurrentWritersBothKept(self):
        """
        Hosts added at the same moment through both nodes' admins are all
        kept, on both nodes.
        """
        from concurrent.futures import ThreadPoolExecutor

        def add(rpcName, prefix):
            rpc = xmlrpc.client.ServerProxy(adminURL(getattr(self, rpcName)))
            return [rpc.addHost("default", "default", f"{prefix}{i}", f"127.0.0.1:{9100 + i}") for i in range(5)]

        with ThreadPoolExecutor(2) as pool:
            results = list(pool.map(add, ["node1", "node2"], ["x", "y"]))
        self.assertEqual(results, [[True] * 5] * 2)
        expected = sorted(["a"] + [f"x{i}" for i in range(5)] + [f"y{i}" for i in range(5)])
        until(lambda: hosts(self.rpc1) == hosts(self.rpc2) == expected, what="both nodes to hold every host")

    def test_compactionAndStatus(self):
        """
        Changes made after etcd compacted its history still reach node 2;
        txlbctl status, the status page and /metrics show the store.
        """
        self.assertTrue(self.rpc1.setWeight("default", "default", "a", 2))
        revision = int(self.cluster.call("/v3/kv/range", {"key": "Lw=="})["header"]["revision"])
        self.cluster.call("/v3/kv/compaction", {"revision": str(revision), "physical": True})
        self.assertTrue(self.rpc1.setWeight("default", "default", "a", 3))
        until(lambda: self.rpc2.getConfig()["services"]["default"]["groups"]["default"]["hosts"]["a"]["weight"] == 3,
              what="node 2 to follow after compaction")
        table = Process(TXLBCTL + ["--url", adminURL(self.node2), "status"])
        self.assertEqual(table.wait(), 0, table.output)
        self.assertIn("shared through etcd /txlb/: connected to http://127.0.0.1:", table.output)
        page = urlText(adminURL(self.node2, "/"))
        self.assertIn('class="store-connected"', page)
        self.assertIn("txlb_etcd_connected 1.0", urlText(adminURL(self.node2, "/metrics")))

    def test_leasedHostJoinsAndLeaves(self):
        """
        A host registered by C{txlb heartbeat --etcd} joins both nodes and
        leaves both once its agent is killed and its lease expires.
        """
        agent = Process(TXLB + [
            "heartbeat", "--etcd", self.cluster.endpoints, "--ttl", "2", "--service", "default",
            "--group", "default", "--name", "b", "--address", self.b.address,
        ])
        self.addCleanup(agent.stop)
        agent.waitFor(r"registered /txlb/hosts/default/default/b under lease")
        until(lambda: hosts(self.rpc1) == hosts(self.rpc2) == ["a", "b"], what="both nodes to take b")
        self.assertIn(b"B\n", {request(self.address2) for _ in range(4)})
        agent.popen.send_signal(signal.SIGKILL)
        agent.wait()
        until(lambda: hosts(self.rpc1) == hosts(self.rpc2) == ["a"], timeout=10, what="b's lease to expire")
        self.assertEqual({request(self.address2) for _ in range(4)}, {b"A\n"})

    @pytest.mark.slow
    def test_membersLostAndBack(self):
        """
        One member killed: the nodes serve and changes still reach both.
        Every member killed: the nodes serve their last pools, say they are
        disconnected, and refuse changes with a clear sentence. Members
        back: the nodes reconnect and converge again.
        """
        self.cluster.kill(0)
        self.assertTrue(self.rpc2.addHost("default", "default", "b", self.b.address))
        until(lambda: hosts(self.rpc1) == ["a", "b"], what="node 1 to follow with a member down")
        for i in (1, 2):
            self.cluster.kill(i)
        until(lambda: self.rpc1.getStatus()["etcd"]["state"] == "disconnected", what="node 1 to notice")
        until(lambda: self.rpc2.getStatus()["etcd"]["state"] == "disconnected", what="node 2 to notice")
        self.assertEqual({request(self.address1) for _ in range(4)}, {b"A\n", b"B\n"})
        self.assertEqual({request(self.address2) for _ in range(4)}, {b"A\n", b"B\n"})
        self.assertIn("disconnected since", self.rpc2.getStatus()["etcd"]["text"])
        with self.assertRaises(xmlrpc.client.Fault) as caught:
            self.rpc1.delHost("default", "default", "a")
        self.assertIn("the shared store (etcd) is unreachable since", caught.exception.faultString)
        metrics = urlText(adminURL(self.node1, "/metrics"))
        self.assertIn("txlb_etcd_connected 0.0", metrics)
        for i in range(3):
            self.cluster.start(i, wait=False)
        for i in range(3):
            self.cluster.processes[i].waitFor(r"ready to serve client requests", timeout=30)
        until(lambda: self.rpc1.getStatus()["etcd"]["state"] == "connected", what="node 1 to reconnect")
        until(lambda: self.rpc2.getStatus()["etcd"]["state"] == "connected", what="node 2 to reconnect")
        self.assertTrue(self.rpc1.delHost("default", "default", "a"))
        until(lambda: hosts(self.rpc2) == ["b"], what="node 2 to converge")
        self.assertEqual({request(self.address2) for _ in range(4)}, {b"B\n"})


class SameHostTests(SynchronousTestCase):
    """
    With the same pool, C{hash} and C{maglev} pick the same host on every
    node for the same client address.
    """

    def setUp(self):
        if SKIP:
            raise SkipTest(SKIP)
        self.cluster = Cluster(self, 1)
        backends = [startBackend(self, name, n) for n in "ABCD"]
        flags = [f"--backend={n.lower()}={b.address}" for n, b in zip("ABCD", backends)]
        etcd = ["--etcd", self.cluster.endpoints, "--scheduler", "hash"]
        self.node1, self.address1 = startTwistd(self, ["txlb", *LISTEN, *ADMIN, *etcd, *flags])
        self.node1.waitFor(r"seeded it")
        self.node2, self.address2 = startTwistd(self, ["txlb", *LISTEN, *etcd])
        self.node2.waitFor(r"holds a description")
        self.rpc1 = xmlrpc.client.ServerProxy(adminURL(self.node1))

    def picks(self, address):
        """
        The backend each of 24 client addresses reaches through a node.
        """
        return [request(address, source=f"127.0.0.{i}") for i in range(2, 26)]

    def test_sameHost(self):
        """
        Two nodes answer every client address with the same backend, with
        C{hash} and, after a change through node 1, with C{maglev}.
        """
        one = self.picks(self.address1)
        self.assertEqual(self.picks(self.address2), one)
        self.assertGreater(len(set(one)), 1)
        self.assertTrue(self.rpc1.changeScheduler("default", "default", "maglev"))
        self.node2.waitFor(r"set-group default default '\{\"scheduler\":\"maglev\"\}'")
        one = self.picks(self.address1)
        self.assertEqual(self.picks(self.address2), one)
        self.assertGreater(len(set(one)), 1)


@pytest.mark.slow
class WorkersFleetTests(FleetMixin, SynchronousTestCase):
    """
    Node 2 runs two workers: worker 0 follows etcd and passes each change
    on to worker 1 through the workers' broadcast, so clients reaching
    either worker see it.
    """

    workers = 2


def urlText(url):
    """
    The body at C{url}.
    """
    import urllib.request

    with urllib.request.urlopen(url, timeout=10) as answer:
        return answer.read().decode()
