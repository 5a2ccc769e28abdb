"""
Unit tests for the parts of the lean path that need no socket: the timeout
wheel, and which groups the lean path carries. The relaying itself is
tested on real sockets with the other data paths in
C{tests/test_integration_datapath.py}.
"""

from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from txlb.address import backendConnector
from txlb.backend import Backend
from txlb.lean import Wheel
from txlb.pool import Pool
from txlb.schedulers import makeScheduler


class WheelTests(SynchronousTestCase):
    def test_firesOnceDue(self):
        """
        A callback runs at the first sweep at or after its time (a quarter
        of a second late at most), once, with its arguments.
        """
        clock = Clock()
        wheel = Wheel(clock)
        wheel.start()
        fired = []
        wheel.add(1.0, fired.append, "a")
        wheel.add(0.3, fired.append, "b")
        clock.advance(0.5)
        self.assertEqual(fired, ["b"])
        clock.advance(0.75)
        self.assertEqual(fired, ["b", "a"])
        clock.advance(10)
        self.assertEqual(fired, ["b", "a"])
        wheel.stop()

    def test_stopped(self):
        """
        A stopped wheel sweeps no more.
        """
        clock = Clock()
        wheel = Wheel(clock)
        wheel.start()
        fired = []
        wheel.add(0.1, fired.append, 1)
        wheel.stop()
        clock.advance(5)
        self.assertEqual(fired, [])


class PlainTests(SynchronousTestCase):
    def test_plainTCP(self):
        """
        A group is carried by the lean path while all its hosts are TCP to
        an IP address; a host named by an endpoint string or a host name
        takes it off until that host leaves; so does a host that is sent
        a PROXY protocol header.
        """
        clock = Clock()
        pool = Pool("g", lambda: makeScheduler("roundrobin", clock, None), "roundrobin", clock)
        self.assertTrue(pool.plainTCP)
        pool.addHost(Backend("a", "127.0.0.1:1", backendConnector("127.0.0.1:1", clock)))
        pool.addHost(Backend("b", "[::1]:1", backendConnector("[::1]:1", clock)))
        self.assertTrue(pool.plainTCP)
        pool.addHost(Backend("c", "localhost:1", backendConnector("localhost:1", clock)))
        pool.addHost(Backend("d", "unix:/x", backendConnector("unix:/x", clock)))
        self.assertFalse(pool.plainTCP)
        pool.removeHost("c")
        self.assertFalse(pool.plainTCP)
        pool.removeHost("d")
        self.assertTrue(pool.plainTCP)
        pool.addHost(Backend("e", "127.0.0.1:2", backendConnector("127.0.0.1:2", clock), proxy="v2"))
        self.assertFalse(pool.plainTCP, "a host that wants a PROXY header")
