"""
Unit tests for the access log: the record of each kind of ending built
from the relay on memory transports, both formats, and the service that
buffers records and writes them once a second (a fake clock).
"""

import json
import os
import re
import shutil
import tempfile

from twisted.internet.address import IPv4Address
from twisted.internet.error import ConnectionDone, ConnectionLost
from twisted.internet.task import Clock
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.logger import globalLogPublisher
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from tests.test_relay import HalfCloseTransport, RelayCase
from tests.test_relay_routing import HELLO, RoutingRelayCase
from txlb.accesslog import KEYS, AccessLogService, _Stamps, formatJSON, formatText, recordOf
from txlb.builder import Builder
from txlb.config import AccessLog, Balancer, Group, Host, Route, Service
from txlb.errors import ConfigError, StartupError
from txlb.plain import fromPlain, toPlain
from txlb.tap import Options


def _temporaryPath(testCase, name="access.log"):
    directory = tempfile.mkdtemp()
    testCase.addCleanup(shutil.rmtree, directory, True)
    return os.path.join(directory, name)


class RecordTests(RelayCase):
    def setUp(self):
        RelayCase.setUp(self)
        self.records = []
        self.proxy = self.service(("a", "b"))
        self.proxy.accessLog = self
        self.reactor.advance(1000.25)

    def record(self, client):
        """
        What the service gives the access log: keep the record.
        """
        self.records.append(recordOf(client, self.reactor.seconds(), _Stamps()))

    def test_relayedConnection(self):
        """
        A relayed connection ending with the client's close gives one record
        with its host, no retries, the connect time, the bytes each way and
        C{client-closed}.
        """
        client, transport = self.accept(self.proxy)
        client.dataReceived(b"hello")
        self.reactor.advance(0.002)
        backend, backendTransport = self.connectBackend()
        backend.dataReceived(b"answer!")
        client.dataReceived(b"more")
        self.reactor.advance(0.5)
        client.connectionLost(Failure(ConnectionDone()))
        [record] = self.records
        self.assertEqual(list(record), list(KEYS))
        self.assertEqual(record["time"], "1970-01-01T00:16:40.250Z")
        self.assertEqual(record["client"], "10.0.0.1:5000")
        self.assertEqual(record["service"], "web")
        self.assertEqual(record["group"], "g")
        self.assertEqual(record["host"], "a")
        self.assertEqual(record["retries"], 0)
        self.assertEqual(record["connect_ms"], 2.0)
        self.assertEqual(record["duration_ms"], 502.0)
        self.assertEqual((record["bytes_in"], record["bytes_out"]), (9, 7))
        self.assertEqual(record["termination"], "client-closed")

    def test_failoverCountsRetries(self):
        """
        A connection that reached its second host after the first refused
        has one retry and names the second host.
        """
        client, _ = self.accept(self.proxy)
        self.refuseBackend()
        backend, _ = self.connectBackend()
        backend.connectionLost(Failure(ConnectionDone()))
        client.connectionLost(Failure(ConnectionDone()))
        [record] = self.records
        self.assertEqual((record["host"], record["retries"]), ("b", 1))
        self.assertEqual(record["termination"], "backend-closed")

    def test_connectFailed(self):
        """
        When every try is refused (three, the default), the record says
        C{connect-failed}, names the last host tried and has no connect
        time.
        """
        client, _ = self.accept(self.proxy)
        for _ in range(3):
            self.refuseBackend()
        client.connectionLost(Failure(ConnectionDone()))
        [record] = self.records
        self.assertEqual(record["termination"], "connect-failed")
        self.assertEqual((record["retries"], record["connect_ms"]), (2, None))
        self.assertIn(record["host"], ("a", "b"))
        self.assertEqual((record["bytes_in"], record["bytes_out"]), (0, 0))

    def test_noHost(self):
        """
        A client arriving when every host is down is recorded with
        C{no-host} and no host.
        """
        for host in list(self.hosts.values()):
            self.pool.setState(host, "maint", "test")
        client, _ = self.accept(self.proxy)
        client.connectionLost(Failure(ConnectionDone()))
        [record] = self.records
        self.assertEqual((record["termination"], record["host"]), ("no-host", None))

    def test_resetAndLeftEarly(self):
        """
        A client that resets while its host is being connected is recorded
        as C{client-reset}, naming the host being tried.
        """
        client, _ = self.accept(self.proxy)
        client.connectionLost(Failure(ConnectionLost()))
        [record] = self.records
        self.assertEqual((record["termination"], record["host"]), ("client-reset", "a"))

    def test_noRouteWithoutRouting(self):
        """
        A service that does not route writes no C{route}.
        """
        client, _ = self.accept(self.proxy)
        client.connectionLost(Failure(ConnectionDone()))
        self.assertNotIn("route", self.records[0])
        self.assertNotIn("route", formatJSON(self.records[0]))

    def test_listener(self):
        """
        A client accepted by a listener names the listener's bound address.
        """
        proxy = Builder(self.reactor).service(
            Service("web", listen=["tcp:0:interface=127.0.0.1"], groups=[Group("g", hosts=[Host("a", "127.0.0.1:1")])])
        )
        proxy.accessLog = self
        proxy.startService()
        self.addCleanup(proxy.stopService)
        [listener] = proxy.listeners
        client = listener.factory.buildProtocol(IPv4Address("TCP", "10.0.0.1", 1))
        client.makeConnection(HalfCloseTransport(peerAddress=IPv4Address("TCP", "10.0.0.1", 1)))
        client.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(self.records[0]["listener"], listener.address)
        self.assertIsNotNone(listener.address)


class FormatTests(SynchronousTestCase):
    record = {
        "time": "2026-11-30T08:39:05.123Z",
        "client": "127.0.0.1:50312",
        "listener": "127.0.0.1:8080",
        "service": "web",
        "group": "blue",
        "host": "a",
        "retries": 0,
        "connect_ms": 0.412,
        "duration_ms": 35.1,
        "bytes_in": 12,
        "bytes_out": 2048,
        "termination": "client-closed",
    }

    def test_text(self):
        """
        The text format is one tcplog-like line: client, [time], listener,
        service/group/host, retries, connect/total ms, bytes in/out,
        termination.
        """
        self.assertEqual(
            formatText(self.record),
            "127.0.0.1:50312 [2026-11-30T08:39:05.123Z] 127.0.0.1:8080 web/blue/a 0 0.412/35.1 12/2048 client-closed",
        )

    def test_textMissing(self):
        """
        A record without host, listener or connect time writes C{-} and
        C{-1} for them.
        """
        record = dict(self.record, host=None, listener=None, connect_ms=None, termination="no-host")
        self.assertIn(" - web/blue/- 0 -1/35.1 ", formatText(record))

    def test_json(self):
        """
        The JSON format is one compact object a line, keys in order.
        """
        line = formatJSON(self.record)
        self.assertNotIn("\n", line)
        self.assertEqual(json.loads(line), self.record)
        self.assertEqual(list(json.loads(line)), list(KEYS))


class _Client:
    """
    The little of a L{txlb.relay.ClientSide} a record reads.
    """

    def __init__(self, n):
        self.transport = StringTransport(peerAddress=IPv4Address("TCP", "10.0.0.1", n))
        self.service = type("S", (), {"name": "web"})()
        self.acceptedAt = 0.0
        self.tried = ()
        self.host = None
        self.group = "g"
        self.connectTime = None
        self.bytesIn = self.bytesOut = 0
        self.termination = "no-host"


class ServiceTests(SynchronousTestCase):
    def setUp(self):
        self.clock = Clock()
        self.path = _temporaryPath(self)
        self.log = AccessLogService(self.path, "json", reactor=None, clock=self.clock, signals=False)
        self.log.startService()
        self.addCleanup(self.log.close)

    def lines(self, path=None):
        with open(path or self.path) as f:
            return f.read().splitlines()

    def test_bufferedOneSecond(self):
        """
        Records are written together one second after the first, not one
        by one.
        """
        self.log.record(_Client(1))
        self.log.record(_Client(2))
        self.clock.advance(0.9)
        self.assertEqual(self.lines(), [])
        self.clock.advance(0.1)
        self.assertEqual([json.loads(l)["client"] for l in self.lines()], ["10.0.0.1:1", "10.0.0.1:2"])

    def test_stopFlushesThenWritesAtOnce(self):
        """
        Stopping writes what waits; records of connections that end while
        the relay drains are written at once.
        """
        self.log.record(_Client(1))
        self.log.stopService()
        self.assertEqual(len(self.lines()), 1)
        self.log.record(_Client(2))
        self.assertEqual(len(self.lines()), 2)

    def test_reopen(self):
        """
        After the file is renamed, L{AccessLogService.reopen} writes what waited to
        the old file and later records to a new file at the path.
        """
        self.log.record(_Client(1))
        os.rename(self.path, self.path + ".1")
        self.log.reopen()
        self.log.record(_Client(2))
        self.clock.advance(1)
        self.assertEqual(len(self.lines(self.path + ".1")), 1)
        self.assertEqual([json.loads(l)["client"] for l in self.lines()], ["10.0.0.1:2"])

    def test_toTwistedLogger(self):
        """
        With the path C{-} each record is a C{twisted.logger} event, the line
        as its text and the record under C{access}.
        """
        events = []
        globalLogPublisher.addObserver(events.append)
        self.addCleanup(globalLogPublisher.removeObserver, events.append)
        log = AccessLogService("-", "text", reactor=None, clock=self.clock, signals=False)
        log.startService()
        log.record(_Client(7))
        [event] = [e for e in events if "access" in e]
        self.assertEqual(event["access"]["client"], "10.0.0.1:7")
        self.assertTrue(re.match(r"10\.0\.0\.1:7 \[1970-01-01T00:00:00\.000Z\] - web/g/- 0 -1/", event["line"]))

    def test_cannotOpen(self):
        """
        A path that cannot be opened stops the start with one sentence.
        """
        log = AccessLogService("/nonexistent/dir/access.log", "text", reactor=None, clock=self.clock, signals=False)
        error = self.assertRaises(StartupError, log.startService)
        self.assertEqual(str(error), "cannot open the access log /nonexistent/dir/access.log: No such file or directory")
        self.flushLoggedErrors()


class ConfigTests(SynchronousTestCase):
    def test_builtFromBalancer(self):
        """
        C{Balancer(accessLog=AccessLog(path, format=...))} gives the balancer
        an access log service that every service records in.
        """
        spec = Balancer(
            services=[Service("web", groups=[Group("g", hosts=[Host("a", "127.0.0.1:1")])])],
            accessLog=AccessLog("/tmp/x.log", format="json"),
        )
        top = Builder(MemoryReactorClock()).balancer(spec)
        log = top.getServiceNamed("access-log")
        self.assertEqual((log.path, log.format), ("/tmp/x.log", "json"))
        self.assertIs(top.proxies["web"].accessLog, log)

    def test_badFormat(self):
        """
        An unknown format is one sentence.
        """
        error = self.assertRaises(ConfigError, AccessLog, "x.log", format="xml")
        self.assertEqual(str(error), "an access log's format is text or json, not 'xml'")

    def test_badAccessLog(self):
        """
        Anything but an AccessLog as a balancer's accessLog is one sentence.
        """
        self.assertRaises(ConfigError, Balancer, accessLog="x.log")


class FlagTests(SynchronousTestCase):
    def test_flags(self):
        """
        C{--access-log PATH --access-log-format json} gives the balancer
        that access log; the other workers get the path made absolute.
        """
        options = Options()
        options.parseOptions(["--backend", "127.0.0.1:1", "--access-log", "access.log", "--access-log-format", "json"])
        log = options.service.getServiceNamed("access-log")
        self.assertEqual((log.path, log.format), ("access.log", "json"))
        arguments = options.workerArguments()
        self.assertEqual(arguments[arguments.index("--access-log") + 1], os.path.abspath("access.log"))

    def test_formatWithoutPath(self):
        """
        C{--access-log-format} without C{--access-log} is one sentence, and
        so is an unknown format.
        """
        with self.assertRaises(SystemExit) as e:
            Options().parseOptions(["--backend", "127.0.0.1:1", "--access-log-format", "json"])
        self.assertEqual(str(e.exception), "twistd txlb: --access-log-format needs --access-log PATH")
        with self.assertRaises(SystemExit) as e:
            Options().parseOptions(["--backend", "127.0.0.1:1", "--access-log", "x", "--access-log-format", "xml"])
        self.assertEqual(str(e.exception), "twistd txlb: an access log's format is text or json, not 'xml'")


class RoutedTests(RoutingRelayCase):
    def test_route(self):
        """
        A client routed on its ClientHello has the route's name in its
        record, and the group the route chose.
        """
        records = []
        proxy = self.routed([Route("b", sni="b.test")])
        proxy.accessLog = type("Log", (), {"record": lambda _, c: records.append(recordOf(c, 0.0, _Stamps()))})()
        client, _ = self.accept(proxy)
        client.dataReceived(HELLO)
        client.connectionLost(Failure(ConnectionDone()))
        [record] = records
        self.assertEqual(record["group"], "b")
        self.assertIsNotNone(record["route"])
        self.assertTrue(formatText(record).endswith(" route=%s" % (record["route"],)))
        self.assertEqual(json.loads(formatJSON(record))["route"], record["route"])


class NeverConnectedTests(RelayCase):
    def test_recordWithoutConnection(self):
        """
        A client that ended before it was ever connected (a wrapper that
        never passed the connection on) still gets a record, with no client
        address and its end as its accept time.
        """
        proxy = self.service(("a",))
        client = proxy.factory.buildProtocol(IPv4Address("TCP", "10.0.0.1", 1))
        client.ended("proxy-header")
        [record] = [recordOf(client, 5.0, _Stamps())]
        self.assertEqual((record["client"], record["time"]), (None, "1970-01-01T00:00:05.000Z"))
        self.assertEqual(record["termination"], "proxy-header")
        self.assertIn('"client":null', formatJSON(record))
        self.assertTrue(formatText(record).startswith("- [1970-01-01T00:00:05.000Z] "))


class PlainTests(SynchronousTestCase):
    def test_roundTrip(self):
        """
        A balancer's access log survives the plain form (C{getConfig},
        C{--state} files) both ways.
        """
        spec = Balancer(accessLog=AccessLog("/var/log/txlb/access.log", format="json"))
        plain = toPlain(spec)
        self.assertEqual(plain["accessLog"], {"path": "/var/log/txlb/access.log", "format": "json"})
        self.assertEqual(fromPlain(Balancer, plain), spec)
