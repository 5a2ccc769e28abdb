"""
The etcd client and watch against a real etcd on 127.0.0.1.
"""

from twisted.internet import defer, reactor, task
from twisted.trial.unittest import SkipTest, TestCase

from tests.etcdcluster import SKIP, Cluster, freePorts
from txlb.etcd import Compacted, EtcdClient, EtcdUnavailable, Watch
from txlb.etcd._client import prefixEnd


class ClientTests(TestCase):
    """
    Keys, transactions, leases and watches on a one-member cluster.
    """

    def setUp(self):
        if SKIP:
            raise SkipTest(SKIP)
        self.cluster = Cluster(self, 1)
        self.client = EtcdClient(reactor, self.cluster.endpoints)
        self.addCleanup(self.client.close)

    @defer.inlineCallbacks
    def test_putAndRange(self):
        """
        What is put under a prefix is read back, keys outside it are not,
        with the revision of the read.
        """
        yield self.client.put("/t/a", "1")
        yield self.client.put("/t/b", "2")
        yield self.client.put("/u/c", "3")
        revision, kvs = yield self.client.getPrefix("/t/")
        self.assertEqual([(kv.key, kv.value) for kv in kvs], [("/t/a", "1"), ("/t/b", "2")])
        self.assertEqual(revision, 4)

    @defer.inlineCallbacks
    def test_transactionConditioned(self):
        """
        A transaction succeeds only while the keys it compares are at the
        revisions given (0: absent), and then makes all its writes.
        """
        ok, _ = yield self.client.transaction({"/t/a": 0}, [("/t/a", "1")])
        self.assertTrue(ok)
        _, (kv,) = yield self.client.getPrefix("/t/")
        ok, _ = yield self.client.transaction({"/t/a": 0}, [("/t/a", "lost")])
        self.assertFalse(ok)
        ok, _ = yield self.client.transaction({"/t/a": kv.modRevision}, [("/t/b", "2")], ["/t/a"])
        self.assertTrue(ok)
        _, kvs = yield self.client.getPrefix("/t/")
        self.assertEqual([(kv.key, kv.value) for kv in kvs], [("/t/b", "2")])

    @defer.inlineCallbacks
    def test_leases(self):
        """
        A key put under a lease goes when the lease is revoked; renewing a
        revoked lease answers 0.
        """
        lease = yield self.client.grant(10)
        yield self.client.put("/t/a", "1", lease=lease)
        ttl = yield self.client.keepAlive(lease)
        self.assertGreater(ttl, 0)
        yield self.client.revoke(lease)
        _, kvs = yield self.client.getPrefix("/t/")
        self.assertEqual(kvs, [])
        ttl = yield self.client.keepAlive(lease)
        self.assertEqual(ttl, 0)

    @defer.inlineCallbacks
    def test_watch(self):
        """
        A watch from a revision reports puts and deletes under its prefix
        from there on, in batches with their revision.
        """
        revision, _ = yield self.client.getPrefix("/t/")
        seen = []
        watch = Watch(self.client, "/t/", revision + 1, lambda r, batch: seen.extend(batch))
        yield watch.start()
        yield self.client.put("/t/a", "1")
        yield self.client.put("/elsewhere", "x")
        yield self.client.delete("/t/a")
        while len(seen) < 2:
            yield task.deferLater(reactor, 0.01, lambda: None)
        self.assertEqual([(kind, kv.key) for kind, kv in seen], [("PUT", "/t/a"), ("DELETE", "/t/a")])
        yield watch.stop()
        self.assertTrue(watch.done.called)

    @defer.inlineCallbacks
    def test_watchCompacted(self):
        """
        A watch from a revision that compaction removed ends with
        L{Compacted}, naming the compaction's revision.
        """
        for i in range(3):
            yield self.client.put("/t/a", str(i))
        revision, _ = yield self.client.getPrefix("/t/")
        yield self.client.compact(revision)
        watch = Watch(self.client, "/t/", 1, lambda r, batch: None)
        watch.start().addErrback(lambda _: None)
        failure = yield self.assertFailure(watch.done, Compacted)
        self.assertEqual(failure.revision, revision)

    @defer.inlineCallbacks
    def test_failover(self):
        """
        A member that does not answer is skipped; the one that answered is
        tried first from then on.
        """
        dead = f"http://127.0.0.1:{freePorts(1)[0]}"
        client = EtcdClient(reactor, [dead, self.cluster.urls[0]])
        self.addCleanup(client.close)
        yield client.put("/t/a", "1")
        self.assertEqual(client.order()[0], self.cluster.urls[0])

    @defer.inlineCallbacks
    def test_unavailable(self):
        """
        When no member answers, the call fails with L{EtcdUnavailable}
        naming each member.
        """
        dead = f"http://127.0.0.1:{freePorts(1)[0]}"
        client = EtcdClient(reactor, dead)
        self.addCleanup(client.close)
        failure = yield self.assertFailure(client.put("/t/a", "1"), EtcdUnavailable)
        self.assertIn(dead, str(failure))


class PrefixTests(TestCase):
    """
    The range end of a prefix.
    """

    def test_prefixEnd(self):
        """
        The end of a prefix's range is the prefix with its last byte
        increased.
        """
        self.assertEqual(prefixEnd("/txlb/"), b"/txlb0")
