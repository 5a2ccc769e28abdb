"""
Deterministic tests of the product fixes the fault suite led to: closing
a relay connection once both halves are shut, failing over on a connect
timeout, draining on stop, raising the descriptor limit, rate-limited
accept errors; and of the suite's report.
"""

import os
import resource

from twisted.internet.address import IPv4Address
from twisted.internet.error import ConnectionDone, TimeoutError
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.logger import globalLogPublisher
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from txlb._limits import raiseFileLimit
from txlb.builder import build
from txlb.config import Balancer, Group, Host, Service
from txlb.errors import ConfigError
from faults import PENDING, SCENARIOS, Outcome, Pending
from faults._report import rst, text
from txlb.listener import Listener, _AcceptErrors
from txlb.tap import Options

PEER = IPv4Address("TCP", "127.0.0.1", 40000)


class HalfCloseableTransport(StringTransport):
    """
    A L{StringTransport} that can shut its write side.
    """

    writeShut = False

    def loseWriteConnection(self):
        self.writeShut = True


def _proxy(testCase, drainTimeout=10.0, hosts=("127.0.0.1:1",)):
    reactor = MemoryReactorClock()
    spec = Balancer(
        services=[
            Service(
                "s",
                listen=["tcp:0:interface=127.0.0.1"],
                groups=[Group("g", hosts=[Host(h, h) for h in hosts])],
                drainTimeout=drainTimeout,
            )
        ]
    )
    top = build(spec, reactor=reactor)
    return reactor, top.proxies["s"]


def _client(reactor, proxy):
    client = proxy.factory.buildProtocol(PEER)
    client.makeConnection(HalfCloseableTransport(peerAddress=PEER))
    return client


def _connectBackend(reactor, client, index=-1):
    factory = reactor.tcpClients[index][2]
    backend = factory.buildProtocol(None)
    backend.makeConnection(HalfCloseableTransport())
    return backend


class HalfCloseTests(SynchronousTestCase):
    """
    Closing relay connections once both directions are shut.
    """

    def test_bothHalvesShutCloses(self):
        """
        Once the client has sent EOF and its write side is shut (after the
        backend's EOF), txlb closes the client connection; Twisted would
        otherwise keep it, and its descriptor, forever.
        """
        reactor, proxy = _proxy(self)
        client = _client(reactor, proxy)
        backend = _connectBackend(reactor, client)
        client.readConnectionLost()
        self.assertFalse(client.transport.disconnecting)
        backend.readConnectionLost()
        self.assertTrue(client.transport.writeShut)
        client.writeConnectionLost()
        self.assertTrue(client.transport.disconnecting)

    def test_backendBothHalvesShutCloses(self):
        """
        The same for the backend connection, in either order.
        """
        reactor, proxy = _proxy(self)
        client = _client(reactor, proxy)
        backend = _connectBackend(reactor, client)
        backend.writeConnectionLost()
        self.assertFalse(backend.transport.disconnecting)
        backend.readConnectionLost()
        self.assertTrue(backend.transport.disconnecting)


class BackendLostTests(SynchronousTestCase):
    """
    One side of a relay going away.
    """

    def test_bytesAfterBackendLost(self):
        """
        Bytes the client sent that arrive in the reactor iteration in which
        the backend connection was lost are dropped, not an exception (the
        host has been released already).
        """
        reactor, proxy = _proxy(self)
        client = _client(reactor, proxy)
        backend = _connectBackend(reactor, client)
        backend.connectionLost(Failure(ConnectionDone()))
        client.dataReceived(b"late bytes")
        self.assertTrue(client.transport.disconnecting)
        self.assertIsNone(client.transport.producer)
        self.assertEqual(backend.transport.value(), b"")
        host = list(proxy.pool.hosts.values())[0]
        self.assertEqual((host.open, host.bytesIn), (0, 0))


    def test_clientLostUnregisters(self):
        """
        When the client goes, the backend connection stops having it as its
        producer before it is closed: a paused, lost producer would keep
        Twisted from ever finishing the close (a leaked descriptor).
        """
        reactor, proxy = _proxy(self)
        client = _client(reactor, proxy)
        backend = _connectBackend(reactor, client)
        self.assertIs(backend.transport.producer, client.transport)
        client.connectionLost(Failure(ConnectionDone()))
        self.assertIsNone(backend.transport.producer)
        self.assertTrue(backend.transport.disconnecting)


class ConnectTimeoutTests(SynchronousTestCase):
    """
    Failing over when a connect times out.
    """

    def test_failsOver(self):
        """
        A connect timeout (a UserError in Twisted) fails the client over to
        the next host instead of leaving it waiting.
        """
        reactor, proxy = _proxy(self, hosts=("127.0.0.1:1", "127.0.0.1:2"))
        client = _client(reactor, proxy)
        self.assertEqual(len(reactor.tcpClients), 1)
        factory = reactor.tcpClients[0][2]
        factory.clientConnectionFailed(None, Failure(TimeoutError()))
        self.assertEqual(len(reactor.tcpClients), 2)
        self.assertNotEqual(reactor.tcpClients[0][1], reactor.tcpClients[1][1])
        self.assertFalse(client.transport.disconnecting)
        host = proxy.pool.hosts[client.tried[0].name]
        self.assertEqual((host.failed, host.open), (1, 0))


class DrainTests(SynchronousTestCase):
    """
    Draining open connections on stop.
    """

    def test_waitsForOpenConnections(self):
        """
        Stopping a service stops its listeners at once but its Deferred
        fires only once the open connections have ended.
        """
        reactor, proxy = _proxy(self)
        proxy.startService()
        client = _client(reactor, proxy)
        stopped = proxy.stopService()
        self.assertNoResult(stopped)
        self.assertEqual(proxy.listeners[0].port, None)
        client.connectionLost(Failure(ConnectionDone()))
        self.successResultOf(stopped)
        self.assertEqual(proxy.clients, set())

    def test_abortsAtTimeout(self):
        """
        What is still open when the drain timeout passes is aborted, and the
        stop completes.
        """
        reactor, proxy = _proxy(self, drainTimeout=2.5)
        proxy.startService()
        client = _client(reactor, proxy)
        backend = _connectBackend(reactor, client)
        stopped = proxy.stopService()
        reactor.advance(2.4)
        self.assertNoResult(stopped)
        reactor.advance(0.1)
        self.successResultOf(stopped)
        self.assertTrue(client.transport.disconnecting)
        self.assertTrue(backend.transport.disconnecting)

    def test_nothingOpen(self):
        """
        With no connection open the stop completes at once.
        """
        reactor, proxy = _proxy(self)
        proxy.startService()
        self.successResultOf(proxy.stopService())

    def test_flag(self):
        """
        C{--drain-timeout} reaches the service; a bad value is one sentence.
        """
        options = Options()
        options.parseOptions(["--backend", "127.0.0.1:1", "--drain-timeout", "2"])
        self.assertEqual(options.service.proxies["default"].drainTimeout, 2.0)
        with self.assertRaises(SystemExit) as e:
            Options().parseOptions(["--backend", "127.0.0.1:1", "--drain-timeout", "x"])
        self.assertIn("--drain-timeout must be 0 or more seconds", str(e.exception))

    def test_exampleTac(self):
        """
        C{tacs/graceful.tac} loads and sets a drain timeout of 30 s.
        """
        from txlb.tacfile import loadTac

        path = os.path.join(os.path.dirname(os.path.dirname(__file__)), "tacs", "graceful.tac")
        top = list(loadTac(path))[0]
        self.assertEqual(top.proxies["web"].drainTimeout, 30.0)

    def test_config(self):
        """
        C{Service.drainTimeout} defaults to 10 s and must not be negative.
        """
        self.assertEqual(Service("s", groups=[Group("g")]).drainTimeout, 10.0)
        self.assertRaises(ConfigError, Service, "s", groups=[Group("g")], drainTimeout=-1)


class FileLimitTests(SynchronousTestCase):
    """
    L{raiseFileLimit}.
    """

    def _limits(self, soft, hard, fail=None):
        calls = []

        def setrlimit(which, limits):
            if fail is not None:
                raise fail
            calls.append(limits)

        result = raiseFileLimit(lambda which: (soft, hard), setrlimit)
        return result, calls

    def test_raisesSoftToHard(self):
        """
        The soft limit goes up to the hard one; the hard one stays.
        """
        self.assertEqual(self._limits(1024, 8192), ((1024, 8192, None), [(8192, 8192)]))

    def test_alreadyThere(self):
        """
        Nothing is changed when the soft limit is the hard one.
        """
        self.assertEqual(self._limits(8192, 8192), ((8192, 8192, None), []))

    def test_unlimitedHard(self):
        """
        An unlimited hard limit raises the soft one to a finite ceiling and
        leaves the hard one unlimited.
        """
        (before, after, error), calls = self._limits(1024, resource.RLIM_INFINITY)
        self.assertGreater(after, 1024)
        self.assertEqual(calls, [(after, resource.RLIM_INFINITY)])

    def test_refused(self):
        """
        When the system refuses, the reason is returned, not raised.
        """
        (before, after, error), calls = self._limits(1024, 8192, ValueError("no"))
        self.assertEqual((before, after, error), (1024, 1024, "no"))

    def test_logged(self):
        """
        The balancer logs the raise once when it starts.
        """
        events = []
        globalLogPublisher.addObserver(events.append)
        self.addCleanup(globalLogPublisher.removeObserver, events.append)
        reactor = MemoryReactorClock()
        top = build(Balancer(), reactor=reactor)
        top._raiseLimit = lambda: (1024, 4096, None)
        top.startService()
        self.assertEqual(
            [(e["before"], e["after"]) for e in events if "after" in e], [(1024, 4096)]
        )


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
        _, proxy = _proxy(self)
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
        reactor, proxy = _proxy(self)
        proxy.startService()
        self.assertEqual(reactor.tcpServers[0][2], 1024)

    def test_endpointWins(self):
        """
        A backlog given in the endpoint string is kept.
        """
        reactor = MemoryReactorClock()
        Listener("s", "tcp:0:backlog=7", None, reactor).startService()
        self.assertEqual(reactor.tcpServers[0][2], 7)


class ReportTests(SynchronousTestCase):
    """
    The suite's registry and page.
    """

    def test_rst(self):
        """
        The page has a row per outcome, the pending scenarios (if any), and the
        command that made it.
        """
        outcomes = [
            Outcome("a", "did a", "saw a", bytesLost=0, rss=(1048576, 2097152), fds=(9, 9)),
            Outcome("b", "did b", "saw b", problems=["it broke"]),
        ]
        waiting = [Pending("c", "will do c", "part c")]
        page = rst(outcomes, waiting, False, 12.0)
        self.assertIn("python -m faults --out doc/reliability.rst", page)
        self.assertIn("   * - a", page)
        self.assertIn("1.0 MiB / 2.0 MiB", page)
        self.assertIn("FAIL: it broke", page)
        self.assertIn("Still to come", page)
        self.assertIn("will do c", page)
        self.assertNotIn("Still to come", rst(outcomes, PENDING, False, 12.0))
        self.assertIn("saw b", text(outcomes))

    def test_registry(self):
        """
        Every scenario has a distinct name and a callable.
        """
        names = [s.name for s in SCENARIOS]
        self.assertEqual(len(names), len(set(names)))
        self.assertTrue(all(callable(s.run) for s in SCENARIOS))
