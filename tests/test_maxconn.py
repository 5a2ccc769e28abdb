"""
Unit tests for L{txlb.maxconn} and the listeners it holds: at the cap,
listening ports stop reading (accepting) until a connection ends.
"""

from twisted.internet.task import Clock
from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import SynchronousTestCase

from txlb.builder import Builder
from txlb.config import Balancer, Group, Host, Service
from txlb.listener import Listener
from txlb.maxconn import ConnectionCap


class FakePort:
    """
    A listening port that records whether it reads (accepts).
    """

    connected = True

    def __init__(self):
        self.reading = True

    def stopReading(self):
        self.reading = False

    def startReading(self):
        self.reading = True


def listening(reactor=None):
    listener = Listener("web", "tcp:0", None, reactor or MemoryReactorClock())
    listener.port = FakePort()
    return listener


class CapTests(SynchronousTestCase):
    def test_holdsAtTheCap(self):
        """
        The listener stops accepting when the count reaches the limit and
        accepts again as soon as it falls below.
        """
        cap = ConnectionCap("service web", Clock(), 2)
        listener = listening()
        cap.addListener(listener)
        cap.opened()
        self.assertTrue(listener.port.reading)
        cap.opened()
        self.assertFalse(listener.port.reading)
        self.assertEqual(cap.reached, 1)
        cap.closed()
        self.assertTrue(listener.port.reading)

    def test_noLimit(self):
        """
        Without a limit, nothing is ever held.
        """
        cap = ConnectionCap("service web", Clock())
        listener = listening()
        cap.addListener(listener)
        for _ in range(1000):
            cap.opened()
        self.assertTrue(listener.port.reading)

    def test_twoCaps(self):
        """
        A listener held by two caps (its service's and the process's)
        accepts again only when both let go.
        """
        service = ConnectionCap("service web", Clock(), 1)
        process = ConnectionCap("the process", Clock(), 1)
        listener = listening()
        service.addListener(listener)
        process.addListener(listener)
        service.opened()
        process.opened()
        service.closed()
        self.assertFalse(listener.port.reading)
        process.closed()
        self.assertTrue(listener.port.reading)

    def test_boundWhileHeld(self):
        """
        A listener bound (or added) while its cap holds does not accept.
        """
        cap = ConnectionCap("service web", Clock(), 1)
        cap.opened()
        listener = listening()
        cap.addListener(listener)
        self.assertFalse(listener.port.reading)
        fresh = Listener("web", "tcp:0", None, MemoryReactorClock())
        cap.addListener(fresh)
        port = FakePort()
        fresh._bound(port)
        self.assertFalse(port.reading)


class BatchPort(FakePort):
    """
    A listening port with Twisted's accept batch: C{doRead} records how
    many connections it would accept at most.
    """

    def __init__(self):
        FakePort.__init__(self)
        self.numberAccepts = 100
        self.batches = []

    def doRead(self):
        self.batches.append(self.numberAccepts)


class BatchTests(SynchronousTestCase):
    def test_batchWithinRoom(self):
        """
        One accept batch takes no more connections than the caps have
        room for, and none at the cap; without a limit nothing changes.
        """
        service = ConnectionCap("service web", Clock(), 5)
        process = ConnectionCap("the process", Clock(), 4)
        listener = Listener("web", "tcp:0", None, MemoryReactorClock())
        service.addListener(listener)
        process.addListener(listener)
        port = BatchPort()
        listener._bound(port)
        process.opened()
        port.doRead()
        self.assertEqual(port.batches, [3])
        for _ in range(3):
            process.opened()
        port.doRead()
        self.assertEqual(port.batches, [3])

    def test_noLimitSameBatch(self):
        """
        Without a limit the accept batch is Twisted's own; a limit set
        later (a reconfiguration) applies to the next batch.
        """
        cap = ConnectionCap("service web", Clock())
        listener = Listener("web", "tcp:0", None, MemoryReactorClock())
        cap.addListener(listener)
        port = BatchPort()
        listener._bound(port)
        port.doRead()
        cap.opened()
        cap.setLimit(3)
        port.doRead()
        self.assertEqual(port.batches, [100, 2])

    def test_setLimit(self):
        """
        Lowering the limit to what is open holds the listeners at once;
        raising it (or removing it) lets them go.
        """
        cap = ConnectionCap("service web", Clock(), 10)
        listener = listening()
        cap.addListener(listener)
        cap.opened()
        cap.opened()
        cap.setLimit(2)
        self.assertFalse(listener.port.reading)
        cap.setLimit(None)
        self.assertTrue(listener.port.reading)
        cap.closed()
        cap.closed()
        self.assertTrue(listener.port.reading)


class BuiltTests(SynchronousTestCase):
    def test_serviceAndProcessCaps(self):
        """
        A service counts its connections against its own maxconn and the
        balancer's, shared by every service.
        """
        reactor = MemoryReactorClock()
        group = [Group("g", hosts=[Host("a", "127.0.0.1:8000")])]
        spec = Balancer(
            services=[
                Service("one", listen=["tcp:0"], groups=group, maxconn=5),
                Service("two", listen=["tcp:0"], groups=group),
            ],
            maxconn=3,
        )
        top = Builder(reactor).balancer(spec)
        one, two = top.proxies["one"], top.proxies["two"]
        self.assertIs(one.caps[1], two.caps[1])
        self.assertEqual((one.cap.limit, two.cap.limit, one.caps[1].limit), (5, None, 3))
        for listener in one.listeners + two.listeners:
            listener.port = FakePort()
        one.connectionOpened()
        two.connectionOpened()
        two.connectionOpened()
        self.assertEqual([l.port.reading for l in one.listeners + two.listeners], [False, False])
        one.connectionClosed()
        self.assertEqual([l.port.reading for l in one.listeners + two.listeners], [True, True])
