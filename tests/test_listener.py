"""
Unit tests for a listener (L{txlb.listener}) on a memory reactor: the
listen backlog it asks for, and its rate-limited accept errors.
"""

from twisted.internet.testing import MemoryReactorClock
from twisted.logger import globalLogPublisher
from twisted.trial.unittest import SynchronousTestCase

from txlb.builder import Builder
from txlb.config import Group, Host, Service
from txlb.listener import Listener, _AcceptErrors


def _proxy():
    """
    A memory reactor and a proxy service with one listener there.
    """
    reactor = MemoryReactorClock()
    spec = Service(
        "s",
        listen=["tcp:0:interface=127.0.0.1"],
        groups=[Group("g", hosts=[Host("127.0.0.1:1", "127.0.0.1:1")])],
    )
    return reactor, Builder(reactor).service(spec)


class AcceptErrorTests(SynchronousTestCase):
    """
    Rate-limited accept errors.
    """

    def test_onePerSecond(self):
        """
        A burst of accept errors becomes one log line per second, the next
        one counting those suppressed.
        """
        events = []
        globalLogPublisher.addObserver(events.append)
        self.addCleanup(globalLogPublisher.removeObserver, events.append)
        reactor = MemoryReactorClock()
        _, proxy = _proxy()
        observer = _AcceptErrors(proxy.listeners[0], reactor)
        for _ in range(100):
            observer({"log_format": "Could not accept new connection (EMFILE)"})
        reactor.advance(1.0)
        observer({"log_format": "Could not accept new connection (EMFILE)"})
        mine = [e for e in events if e.get("problem")]
        self.assertEqual(len(mine), 2)
        self.assertEqual(mine[1]["more"], " (99 more since the last report)")


class BacklogTests(SynchronousTestCase):
    """
    The listen backlog.
    """

    def test_default(self):
        """
        A listener asks for a backlog of 1024, not Twisted's 50, which a
        burst of connections overflows (a second lost per dropped SYN).
        """
        reactor, proxy = _proxy()
        proxy.startService()
        self.assertEqual(reactor.tcpServers[0][2], 1024)

    def test_endpointWins(self):
        """
        A backlog given in the endpoint string is kept.
        """
        reactor = MemoryReactorClock()
        Listener("s", "tcp:0:backlog=7", None, reactor).startService()
        self.assertEqual(reactor.tcpServers[0][2], 7)
