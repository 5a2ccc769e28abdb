"""
Unit tests for the pool's contract (L{txlb.interfaces.IPool}): leases,
waits and refusals, each counted in one place.
"""

from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase
from zope.interface.verify import verifyObject

from txlb.backend import Backend
from txlb.interfaces import ILease, IPool, IRefusal, IWait
from txlb.grants import NO_HOST, NO_OTHER_HOST, QUEUE_FULL, QUEUE_TIMEOUT
from txlb.pool import Pool
from txlb.schedulers import makeScheduler


class PoolContractTests(SynchronousTestCase):
    def setUp(self):
        self.clock = Clock()

        def scheduler():
            return makeScheduler("roundrobin", self.clock, None)

        self.pool = Pool("g", scheduler, "roundrobin", self.clock, queueSize=1, queueTimeout=5)

    def add(self, name, maxconn=None):
        host = Backend(name, f"{name}:1", None, maxconn=maxconn)
        self.pool.addHost(host)
        return host

    def test_interfaces(self):
        """
        The pool and what it answers provide the interfaces they claim.
        """
        self.add("a", maxconn=1)
        verifyObject(IPool, self.pool)
        lease = self.pool.acquire(None, (), None)
        verifyObject(ILease, lease)
        verifyObject(IWait, self.pool.acquire(None, (), lambda outcome: None))
        verifyObject(IRefusal, self.pool.acquire(None, (), None))

    def test_leaseCountsOpenedAndReleasedOnce(self):
        """
        A lease counts the host as opened when granted; giving it back
        twice counts once.
        """
        a = self.add("a")
        lease = self.pool.acquire(None, (), None)
        self.assertIs(lease.host, a)
        self.assertEqual((a.open, a.total), (1, 1))
        lease.connected()
        lease.release()
        lease.release()
        self.assertEqual((a.open, a.total), (0, 1))

    def test_failedLeaseCountsFailure(self):
        """
        A failed lease gives the host back and counts the failure with its
        reason.
        """
        a = self.add("a")
        self.pool.acquire(None, (), None).failed("connection refused")
        self.assertEqual((a.open, a.failed, a.lastFailure.reason), (0, 1, "connection refused"))

    def test_refusals(self):
        """
        No host at all is a counted refusal; no other host after tries is
        a refusal that is not counted again.
        """
        refusal = self.pool.acquire(None, (), None)
        self.assertEqual(refusal.kind, NO_HOST)
        a = self.add("a")
        self.assertEqual(self.pool.acquire(None, (a,), None).host, a)
        a.state = "down"
        self.assertEqual(self.pool.acquire(None, (a,), None).kind, NO_OTHER_HOST)
        self.assertEqual(self.pool.refused, 1)
        self.assertEqual(self.pool.refusals[NO_HOST], 1)
        self.assertEqual(self.pool.refusals[NO_OTHER_HOST], 0)

    def test_queueGrantsWhenASlotFrees(self):
        """
        When every host is full, the client waits; a released slot is
        granted to it as a lease already counted.
        """
        a = self.add("a", maxconn=1)
        first = self.pool.acquire(None, (), None)
        got = []
        wait = self.pool.acquire(None, (), got.append)
        self.assertTrue(IWait.providedBy(wait))
        self.assertEqual(self.pool.acquire(None, (), None).kind, QUEUE_FULL)
        first.release()
        self.assertEqual(got[0].host, a)
        self.assertEqual((a.open, a.total, self.pool.waiting), (1, 2, 0))

    def test_queueTimeoutAndCancel(self):
        """
        A wait that times out is answered with a counted refusal; a
        cancelled one is never answered.
        """
        self.add("a", maxconn=1)
        self.pool.acquire(None, (), None)
        got = []
        self.pool.acquire(None, (), got.append)
        self.clock.advance(5)
        self.assertEqual(got[0].kind, QUEUE_TIMEOUT)
        cancelled = []
        self.pool.acquire(None, (), cancelled.append).cancel()
        self.clock.advance(5)
        self.assertEqual(cancelled, [])
        self.assertEqual(self.pool.refusals[QUEUE_TIMEOUT], 1)


class PoolTimesTests(SynchronousTestCase):
    def test_connectAndSessionTimes(self):
        """
        A lease's connect time (grant to connected) and session length
        (connected to release) land in the pool's histograms; a failed
        attempt counts neither.
        """
        clock = Clock()
        pool = Pool("g", lambda: makeScheduler("roundrobin", clock, None), "roundrobin", clock)
        pool.addHost(Backend("a", "a:1", None))
        lease = pool.acquire(None, (), None)
        clock.advance(0.25)
        lease.connected()
        clock.advance(3)
        lease.release()
        pool.acquire(None, (), None).failed("connection refused")
        self.assertEqual((pool.connectTimes.count, pool.connectTimes.sum), (1, 0.25))
        self.assertEqual((pool.sessionTimes.count, pool.sessionTimes.sum), (1, 3))
