"""
Backends named by host name: resolved through a real DNS server (Twisted's
own) running on 127.0.0.1 inside the test, cached by TTL, refreshed, kept
when lookups fail, and tried address after address.
"""

import os
import tempfile

from twisted.internet import defer, reactor
from twisted.internet.error import DNSLookupError
from twisted.internet.protocol import ClientFactory
from twisted.internet.task import Clock
from twisted.internet.testing import MemoryReactorClock
from twisted.logger import formatEvent, globalLogPublisher
from twisted.names import dns, server
from twisted.names.common import ResolverBase
from twisted.trial.unittest import SynchronousTestCase, TestCase

from tests.test_relay import RelayCase
from txlb.address import TCPConnector, backendConnector
from txlb.builder import Builder
from txlb.config import Group, Host, Service
from txlb.errors import ConfigError
from txlb.hostnames import MAX_TTL, MIN_TTL, REFRESH_AT, HostNames, ResolvingConnector, parseServer


class Zone(ResolverBase):
    """
    An authority whose records a test changes: C{records[name]} is a list
    of C{(address, ttl)}; it counts the queries it answers.
    """

    def __init__(self):
        ResolverBase.__init__(self)
        self.records = {}
        self.queries = 0

    def _lookup(self, name, cls, type, timeout):
        self.queries += 1
        name = name.decode("ascii") if isinstance(name, bytes) else name
        answers = []
        for address, ttl in self.records.get(name.lower(), []):
            six = ":" in address
            if (type == dns.AAAA) == six and type in (dns.A, dns.AAAA):
                payload = dns.Record_AAAA(address, ttl) if six else dns.Record_A(address, ttl)
                answers.append(dns.RRHeader(name, type, dns.IN, ttl, payload, auth=True))
        if name.lower() not in self.records:
            return defer.fail(dns.AuthoritativeDomainError(name))
        return defer.succeed((answers, [], []))


class DNSServer:
    """
    Twisted's DNS server on 127.0.0.1 (UDP, a port the OS chose) serving a
    L{Zone}.
    """

    def __init__(self):
        self.zone = Zone()
        factory = server.DNSServerFactory(authorities=[self.zone])
        factory.noisy = False
        self.protocol = dns.DNSDatagramProtocol(controller=factory)
        self.port = reactor.listenUDP(0, self.protocol, interface="127.0.0.1")
        self.address = f"127.0.0.1:{self.port.getHost().port}"

    def stop(self):
        return defer.maybeDeferred(self.port.stopListening)


def hostsFile(testCase, text):
    fd, path = tempfile.mkstemp(suffix=".hosts")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    testCase.addCleanup(os.unlink, path)
    return path.encode()


class HostNamesTests(TestCase):
    """
    L{HostNames} against a real DNS server, with a L{Clock} for TTLs.
    """

    timeout = 20

    def setUp(self):
        self.dns = DNSServer()
        self.addCleanup(self.dns.stop)
        self.clock = Clock()
        self.names = HostNames(
            reactor, self.clock, servers=[self.dns.address], hostsFile=hostsFile(self, "127.0.0.9 fromfile\n"),
            timeout=(0.3,),
        )
        self.names.startService()
        self.addCleanup(self.names.stopService)
        self.events = []
        globalLogPublisher.addObserver(self.events.append)
        self.addCleanup(globalLogPublisher.removeObserver, self.events.append)

    def warnings(self):
        return [e for e in self.events if e.get("log_namespace", "").startswith("txlb.hostnames")
                and e.get("log_level").name == "warn"]

    @defer.inlineCallbacks
    def test_aAndAAAA(self):
        """
        A name with A and AAAA records resolves to every address, IPv4
        first, for its TTL.
        """
        self.dns.zone.records["app.test"] = [("::1", 30), ("127.0.0.2", 30), ("127.0.0.3", 30)]
        entry = self.names.resolved("app.test")
        addresses = yield entry.current()
        self.assertEqual(addresses, ("127.0.0.2", "127.0.0.3", "::1"))
        self.assertEqual(entry.expires, 30)

    @defer.inlineCallbacks
    def test_ttlClamped(self):
        """
        A TTL below L{MIN_TTL} or above L{MAX_TTL} is kept within them.
        """
        self.dns.zone.records["short.test"] = [("127.0.0.2", 1)]
        self.dns.zone.records["long.test"] = [("127.0.0.3", 10**6)]
        yield self.names.resolved("short.test").current()
        yield self.names.resolved("long.test").current()
        self.assertEqual(self.names.resolved("short.test").expires, MIN_TTL)
        self.assertEqual(self.names.resolved("long.test").expires, MAX_TTL)

    @defer.inlineCallbacks
    def test_followsChange(self):
        """
        Before the answer expires it is looked up again in the background,
        and a changed answer replaces it.
        """
        self.dns.zone.records["app.test"] = [("127.0.0.2", 20)]
        entry = self.names.resolved("app.test")
        yield entry.current()
        self.dns.zone.records["app.test"] = [("127.0.0.4", 20)]
        self.clock.advance(20 * REFRESH_AT - 0.1)
        self.assertEqual(entry.addresses, ("127.0.0.2",))
        refreshed = self.waitForLookup(entry)
        self.clock.advance(0.1)
        yield refreshed
        self.assertEqual(entry.addresses, ("127.0.0.4",))

    def waitForLookup(self, entry):
        """
        A Deferred firing once the next lookup has ended and its outcome
        has been taken in.
        """
        done = defer.Deferred()
        query = self.names.query

        def spy(name):
            self.names.query = query
            d = query(name)
            d.addBoth(lambda result: (reactor.callLater(0, done.callback, None), result)[1])
            return d

        self.names.query = spy
        return done

    @defer.inlineCallbacks
    def test_keptWhenServerStops(self):
        """
        When the server stops answering, the last good answer stays in use
        past its TTL and the failure is logged once, however many lookups
        fail.
        """
        self.dns.zone.records["app.test"] = [("127.0.0.2", 10)]
        entry = self.names.resolved("app.test")
        yield entry.current()
        yield self.dns.stop()
        for _ in range(3):
            failed = self.waitForLookup(entry)
            self.clock.advance(10)
            yield failed
        self.assertEqual(entry.addresses, ("127.0.0.2",))
        self.assertIsNotNone(entry.failing)
        self.assertEqual(len(self.warnings()), 1)
        self.assertEqual(
            formatEvent(self.warnings()[0]),
            "lookup of app.test failed: no DNS server answered; keeping 127.0.0.2",
        )
        addresses = yield entry.current()
        self.assertEqual(addresses, ("127.0.0.2",))

    @defer.inlineCallbacks
    def test_unknownName(self):
        """
        A name nobody knows fails the waiting connection with a lookup
        error.
        """
        with self.assertRaises(DNSLookupError):
            yield self.names.resolved("nothere.test").current()

    @defer.inlineCallbacks
    def test_hostsFile(self):
        """
        A name in the hosts file is answered from it; the DNS server is
        not asked.
        """
        addresses = yield self.names.resolved("fromfile").current()
        self.assertEqual(addresses, ("127.0.0.9",))
        self.assertEqual(self.dns.zone.queries, 0)


class ParseTests(SynchronousTestCase):
    """
    C{--dns} values and which backends get a resolving connector.
    """

    def test_servers(self):
        """
        C{HOST}, C{HOST:PORT} and C{[IPv6]:PORT} are read; a bad port is
        one sentence.
        """
        self.assertEqual(parseServer("127.0.0.1:5353"), ("127.0.0.1", 5353))
        self.assertEqual(parseServer("10.0.0.1"), ("10.0.0.1", 53))
        self.assertEqual(parseServer("[::1]:5353"), ("::1", 5353))
        with self.assertRaises(ConfigError):
            parseServer("127.0.0.1:x")

    def test_connectorKinds(self):
        """
        A backend written with a host name gets a L{ResolvingConnector}
        when there is a L{HostNames}; IP addresses keep the plain one.
        """
        names = HostNames(MemoryReactorClock())
        self.assertIsInstance(backendConnector("app.test:80", None, names=names), ResolvingConnector)
        self.assertIsInstance(backendConnector("127.0.0.1:80", None, names=names), TCPConnector)
        self.assertIsInstance(backendConnector("[::1]:80", None, names=names), TCPConnector)


class ConnectorTests(SynchronousTestCase):
    """
    L{ResolvingConnector} on a memory reactor.
    """

    def setUp(self):
        self.reactor = MemoryReactorClock()
        self.names = HostNames(self.reactor)
        self.entry = self.names.resolved("app.test")
        self.connector = ResolvingConnector("app.test:80", "app.test", 80, self.entry)

    def test_addressByIndex(self):
        """
        Attempt C{index} connects to address C{index} of the answer.
        """
        self.entry.addresses = ("127.0.0.2", "::1")
        self.assertEqual(self.connector.addressCount, 2)
        self.connector.connect(self.reactor, ClientFactory())
        self.connector.connect(self.reactor, ClientFactory(), 1)
        self.assertEqual([c[:2] for c in self.reactor.tcpClients], [("127.0.0.2", 80), ("::1", 80)])


class FailoverTests(RelayCase):
    """
    The failover tries every address of a host named by host name before
    the next host.
    """

    def test_nextAddressFirst(self):
        """
        A refused address is followed by the host's next address; only
        when every address refused is the host counted as failed and the
        next host tried.
        """
        builder = Builder(self.reactor)
        service = builder.service(Service("web", groups=[Group("g", hosts=[
            Host("one", "one.test:80"), Host("two", "two.test:80"),
        ])]))
        builder.names().resolved("one.test").addresses = ("127.0.0.5", "::5")
        builder.names().resolved("two.test").addresses = ("127.0.0.7",)
        hosts = service.pool.hosts
        client, transport = self.accept(service)
        self.assertEqual(self.lastAttempt()[0], "127.0.0.5")
        self.refuseBackend()
        self.assertEqual(self.lastAttempt()[0], "::5")
        self.assertEqual(hosts["one"].failed, 0)
        self.refuseBackend()
        self.assertEqual(self.lastAttempt()[0], "127.0.0.7")
        self.assertEqual(hosts["one"].failed, 1)
        self.connectBackend()
        self.assertFalse(transport.disconnecting)
        self.assertEqual(hosts["two"].open, 1)
