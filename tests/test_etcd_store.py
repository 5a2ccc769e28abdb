"""
Balancers in this process sharing their services through a real etcd on
127.0.0.1: seeding, taking, admin changes through etcd, conflicts,
compaction, a lost cluster, leased hosts.
"""

from twisted.internet import defer, reactor, task
from twisted.trial.unittest import SkipTest, TestCase
from zope.interface.verify import verifyObject

from tests.etcdcluster import SKIP, Cluster
from txlb.admin import AdminAPI, AdminError
from txlb.admin._faults import BAD_ARGUMENT, FAILED
from txlb.builder import Builder
from txlb.config import Balancer, Etcd, Group, Host, Service
from txlb.etcd import EtcdClient
from txlb.etcd._admin import SharedAdminAPI
from txlb.etcd._agent import LeaseRegistration
from txlb.interfaces import ISharedStore

LISTEN = "tcp:0:interface=127.0.0.1"


def description(urls, hosts=(), scheduler="roundrobin", prefix="/txlb/"):
    """
    One service 'web' with a group 'blue' of C{hosts}, shared through etcd.
    """
    return Balancer(
        services=[Service("web", listen=[LISTEN], groups=[Group("blue", scheduler=scheduler, hosts=hosts)])],
        etcd=Etcd(urls, prefix=prefix),
    )


def hostsOf(balancer, group="blue"):
    """
    The names of the hosts a running balancer's group has.
    """
    return sorted(balancer.proxies["web"].pools[group].hosts)


class StoreTests(TestCase):
    """
    Two or more nodes on a one-member cluster.
    """

    def setUp(self):
        if SKIP:
            raise SkipTest(SKIP)
        self.cluster = Cluster(self, 1)

    @defer.inlineCallbacks
    def node(self, spec):
        """
        Build and start a node; fires with (balancer, its admin API) once
        it runs what etcd holds.
        """
        builder = Builder(reactor)
        balancer = builder.balancer(spec)
        balancer.startService()
        self.addCleanup(balancer.stopService)
        yield balancer.store.whenConnected()
        yield balancer.store.appliedUpTo(balancer.store.revision)
        return balancer, SharedAdminAPI(AdminAPI(balancer, builder), balancer.store)

    @defer.inlineCallbacks
    def test_seedThenTake(self):
        """
        The first node seeds an empty prefix with its services; the next
        takes them over its own, keeping its own listeners.
        """
        one, _ = yield self.node(description(self.cluster.urls, [Host("a", "127.0.0.1:9001")]))
        two, _ = yield self.node(description(self.cluster.urls, [Host("z", "127.0.0.1:9009")]))
        self.assertEqual((one.store.won, two.store.won), ("seeded", "stored"))
        self.assertEqual(hostsOf(two), ["a"])
        self.assertEqual([l.description for l in two.proxies["web"].listeners], [LISTEN])
        self.assertEqual(two.store.status()["state"], "connected")
        verifyObject(ISharedStore, two.store)

    @defer.inlineCallbacks
    def test_changeReachesEveryNode(self):
        """
        An admin change on one node is written to etcd and made on every
        node; the writer runs it when the call answers.
        """
        one, api = yield self.node(description(self.cluster.urls, [Host("a", "127.0.0.1:9001")]))
        two, _ = yield self.node(description(self.cluster.urls))
        result = yield api.addHost("tester", "web", "blue", "b", "127.0.0.1:9002", 2)
        self.assertTrue(result)
        self.assertEqual(hostsOf(one), ["a", "b"])
        yield two.store.appliedUpTo(one.store.applied)
        self.assertEqual(hostsOf(two), ["a", "b"])
        self.assertEqual(two.proxies["web"].pools["blue"].hosts["b"].weight, 2)
        removed = yield api.delAllHosts("tester", "web", "blue")
        self.assertEqual(removed, 2)
        yield two.store.appliedUpTo(one.store.applied)
        self.assertEqual(hostsOf(two), [])

    @defer.inlineCallbacks
    def test_concurrentWritersBothKept(self):
        """
        Two nodes changing the same service at the same moment: one
        transaction loses, is retried on what the other wrote, and both
        changes are kept everywhere.
        """
        one, api1 = yield self.node(description(self.cluster.urls))
        two, api2 = yield self.node(description(self.cluster.urls))
        writes = [api1.addHost("n1", "web", "blue", f"x{i}", f"127.0.0.1:{9100 + i}") for i in range(5)]
        writes += [api2.addHost("n2", "web", "blue", f"y{i}", f"127.0.0.1:{9200 + i}") for i in range(5)]
        yield defer.gatherResults(writes)
        self.assertGreater(one.store.conflicts + two.store.conflicts, 0)
        latest = max(one.store.applied, two.store.applied)
        yield one.store.appliedUpTo(latest)
        yield two.store.appliedUpTo(latest)
        expected = sorted([f"x{i}" for i in range(5)] + [f"y{i}" for i in range(5)])
        self.assertEqual(hostsOf(one), expected)
        self.assertEqual(hostsOf(two), expected)

    @defer.inlineCallbacks
    def test_badChangeWritesNothing(self):
        """
        A change the description refuses is answered with a clear
        sentence and writes nothing.
        """
        one, api = yield self.node(description(self.cluster.urls))
        before = one.store.applied
        failure = yield self.assertFailure(api.changeScheduler(None, "web", "blue", "nonsense"), AdminError)
        self.assertEqual(failure.code, BAD_ARGUMENT)
        self.assertIn("unknown scheduler 'nonsense'", failure.message)
        revision, _ = yield one.store.client.getPrefix("/txlb/")
        self.assertEqual(revision, before)

    @defer.inlineCallbacks
    def test_writtenButNotRunHere(self):
        """
        A change that is in etcd but that this node cannot run (its new
        listener's port is taken) is answered with a Fault saying so; the
        node keeps serving what it ran before.
        """
        import socket

        taken = socket.socket()
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        self.addCleanup(taken.close)
        one, api = yield self.node(description(self.cluster.urls, [Host("a", "127.0.0.1:9001")]))
        listen = f"tcp:{taken.getsockname()[1]}:interface=127.0.0.1"
        failure = yield self.assertFailure(
            api.addService("tester", "api", {"listen": [listen], "groups": {"g": {}}}), AdminError)
        self.assertEqual(failure.code, FAILED)
        self.assertIn("is in etcd (revision", failure.message)
        self.assertIn("but this node cannot run it", failure.message)
        self.assertEqual(sorted(one.proxies), ["web"])
        self.assertIn("cannot run revision", one.store.status()["lastError"])

    @defer.inlineCallbacks
    def test_compactionSurvived(self):
        """
        A watch that starts from a revision compaction removed is
        cancelled; the node re-reads the whole prefix and runs the latest.
        """
        yield self.node(description(self.cluster.urls, [Host("a", "127.0.0.1:9001")]))
        client = EtcdClient(reactor, self.cluster.urls)
        self.addCleanup(client.close)

        class Stale(EtcdClient):
            """
            Another node writes, and etcd compacts, between this node's
            first read and its watch.
            """

            reads = 0

            @defer.inlineCallbacks
            def getPrefix(self, prefix):
                answer = yield EtcdClient.getPrefix(self, prefix)
                Stale.reads += 1
                if Stale.reads == 1:
                    _, (kv,) = yield client.getPrefix("/txlb/services/")
                    yield client.put("/txlb/unrelated", "1")
                    yield client.put(kv.key, kv.value.replace("127.0.0.1:9001", "127.0.0.1:9002"))
                    latest, _ = yield client.getPrefix("/txlb/")
                    yield client.compact(latest)
                return answer

        from txlb.etcd import _share

        self.patch(_share, "EtcdClient", Stale)
        two, _ = yield self.node(description(self.cluster.urls))
        yield until(lambda: Stale.reads >= 2 and two.store.state == "connected", 3)
        yield two.store.appliedUpTo(two.store.revision)
        self.assertGreaterEqual(Stale.reads, 2)
        self.assertEqual(two.proxies["web"].pools["blue"].hosts["a"].address, "127.0.0.1:9002")

    @defer.inlineCallbacks
    def test_unreachable(self):
        """
        Without etcd a node keeps its pools, says since when it is
        disconnected, and refuses admin changes with a clear sentence;
        when etcd is back it reads and watches again.
        """
        one, api = yield self.node(description(self.cluster.urls, [Host("a", "127.0.0.1:9001")]))
        self.cluster.kill(0)
        yield until(lambda: one.store.state == "disconnected")
        self.assertIn("disconnected since", one.store.status()["text"])
        self.assertEqual(hostsOf(one), ["a"])
        failure = yield self.assertFailure(api.addHost(None, "web", "blue", "b", "127.0.0.1:9002"), AdminError)
        self.assertEqual(failure.code, FAILED)
        self.assertIn("the shared store (etcd) is unreachable since", failure.message)
        self.cluster.start(0)
        yield one.store.whenConnected()
        yield api.addHost(None, "web", "blue", "b", "127.0.0.1:9002")
        self.assertEqual(hostsOf(one), ["a", "b"])

    @defer.inlineCallbacks
    def test_leasedHost(self):
        """
        A host registered under a lease joins its group, stays out of the
        stored services (also through applyConfig of what getConfig
        shows), and leaves when the lease is revoked.
        """
        one, api = yield self.node(description(self.cluster.urls, [Host("a", "127.0.0.1:9001")]))
        client = EtcdClient(reactor, self.cluster.urls)
        agent = LeaseRegistration(client, reactor, "/txlb/", "web", "blue", Host("r", "127.0.0.1:9100"), 5)
        self.addCleanup(client.close)
        agent.startService()
        yield until(lambda: "r" in hostsOf(one))
        yield api.applyConfig("tester", api.getConfig())
        _, (stored,) = yield client.getPrefix("/txlb/services/")
        self.assertNotIn('"r"', stored.value)
        yield agent.stopService()
        yield until(lambda: "r" not in hostsOf(one))
        self.assertEqual(hostsOf(one), ["a"])


@defer.inlineCallbacks
def until(predicate, timeout=10.0):
    """
    Fire once C{predicate()} holds (checked every 20 ms: it watches what
    another process or the network does), failing after C{timeout} s.
    """
    deadline = reactor.seconds() + timeout
    while not predicate():
        if reactor.seconds() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {predicate}")
        yield task.deferLater(reactor, 0.02, lambda: None)
