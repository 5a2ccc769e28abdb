"""
Tests for the hashing schedulers' C{key=} option (L{txlb.schedulers._keys}):
the shared scheduler contract with each key, and what each key hashes.
"""

from random import Random

from twisted.internet.address import IPv4Address, UNIXAddress
from twisted.internet.task import Clock
from twisted.internet.testing import MemoryReactorClock
from twisted.logger import globalLogPublisher
from twisted.trial.unittest import SynchronousTestCase

from txlb.builder import Builder
from txlb.clienthello import ClientHello
from txlb.config import Group, Host
from txlb.errors import ConfigError
from txlb.routing import Connection
from txlb.schedulers import makeScheduler
from txlb.schedulers._keys import keyFunction, needsHello, sniKey, sourcePortKey
from txlb.testing import SchedulerTests, makeHosts


def conn(host="10.0.0.1", port=4000, sni=None):
    return Connection.of(IPv4Address("TCP", host, port), "tcp:443", ClientHello(sni, ()))


class HashSNIContract(SchedulerTests, SynchronousTestCase):
    scheduler = "hash:key=sni"


class HashSourcePortContract(SchedulerTests, SynchronousTestCase):
    scheduler = "hash:key=source-port,load=1.5"


class MaglevSNIContract(SchedulerTests, SynchronousTestCase):
    scheduler = "maglev:key=sni"


class KeyTests(SynchronousTestCase):
    def test_keys(self):
        """
        C{source} is the address, C{source-port} adds the port, C{sni} is the
        server name, or the address without one; a UNIX client is its path.
        """
        self.assertEqual(keyFunction("source")(conn()), "10.0.0.1")
        self.assertEqual(sourcePortKey(conn()), "10.0.0.1:4000")
        self.assertEqual(sniKey(conn(sni="a.test")), "sni:a.test")
        self.assertEqual(sniKey(conn()), "10.0.0.1")
        self.assertEqual(sniKey(IPv4Address("TCP", "10.0.0.2", 1)), "10.0.0.2")
        unix = Connection.of(UNIXAddress(b"/run/s"))
        self.assertEqual(keyFunction("source")(unix), str(UNIXAddress(b"/run/s")))

    def test_needsHello(self):
        """
        C{sni} and functions need the ClientHello; the address keys do not.
        """
        self.assertTrue(needsHello("sni"))
        self.assertTrue(needsHello(lambda c: "x"))
        self.assertFalse(needsHello("source"))
        self.assertFalse(needsHello(None))

    def test_unknownKey(self):
        """
        An unknown key is one sentence listing the known ones.
        """
        e = self.assertRaises(ConfigError, makeScheduler, "hash:key=port")
        self.assertIn("source, source-port, sni", str(e))

    def test_sameNameSameHost(self):
        """
        With C{key=sni}, clients from any address asking for one name reach
        one host; names spread over the hosts.
        """
        for spec in ("hash:key=sni", "maglev:key=sni"):
            scheduler = makeScheduler(spec, Clock(), Random(1))
            scheduler.setHosts(makeHosts(1, 1, 1))
            picks = {scheduler.pick(conn(f"10.0.0.{i}", sni="a.test"), ()).name for i in range(50)}
            self.assertEqual(len(picks), 1)
            names = {scheduler.pick(conn(sni=f"site{i}.test"), ()).name for i in range(50)}
            self.assertEqual(names, {"a", "b", "c"})

    def test_sourcePortSpreads(self):
        """
        With C{key=source-port}, one client address's connections spread.
        """
        scheduler = makeScheduler("hash:key=source-port", Clock(), Random(1))
        scheduler.setHosts(makeHosts(1, 1, 1))
        picks = {scheduler.pick(conn(port=p), ()).name for p in range(40000, 40060)}
        self.assertEqual(picks, {"a", "b", "c"})


class CallableKeyTests(SynchronousTestCase):
    def setUp(self):
        self.events = []
        globalLogPublisher.addObserver(self.events.append)
        self.addCleanup(globalLogPublisher.removeObserver, self.events.append)

    def pool(self, key, scheduler="hash"):
        spec = Group("g", scheduler=scheduler, hashKey=key, hosts=[Host(n, f"127.0.0.1:{80 + i}") for i, n in enumerate("abc")])
        return Builder(MemoryReactorClock()).pool(spec)

    def test_functionKey(self):
        """
        A C{.tac}'s function decides the key: clients it maps alike reach
        one host.
        """
        for scheduler in ("hash", "maglev"):
            pool = self.pool(lambda c: c.host.split(".")[2], scheduler)
            picks = {pool.pick(conn(f"10.0.7.{i}")).name for i in range(40)}
            self.assertEqual(len(picks), 1)

    def test_functionRaises(self):
        """
        A key function that raises hashes the client's address instead, and
        is logged once per burst.
        """

        def broken(c):
            raise ValueError("no")

        pool = self.pool(broken)
        first = pool.pick(conn("10.0.0.9"))
        for _ in range(5):
            self.assertIs(pool.pick(conn("10.0.0.9")), first)
        warned = [e for e in self.events if "hash key function" in e.get("log_format", "")]
        self.assertEqual(len(warned), 1)

    def test_notFunction(self):
        """
        A hashKey that is not a function is refused when the group is made.
        """
        self.assertRaises(ConfigError, Group, "g", scheduler="hash", hashKey="sni")

    def test_schedulerWithoutKey(self):
        """
        A hashKey for a scheduler that takes no key is one sentence.
        """
        e = self.assertRaises(ConfigError, self.pool, lambda c: "x", "roundrobin")
        self.assertIn("has no option 'key'", str(e))
