"""
Unit tests for how PROXY protocol, access control and limits are
described: C{.tac} values, C{--backend ...,proxy=}, the quick-start flags,
and the example C{tacs/edge.tac}.
"""

import contextlib
import io
import os

from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import SynchronousTestCase

from txlb.plain import configOf
from txlb.builder import Builder
from txlb.cli import main
from txlb.config import Balancer, Group, Host, Service, parseBackend
from txlb.plain import fromPlain
from txlb.errors import ConfigError
from txlb.proxyaccept import ProxyHeaderFactory
from txlb.tacfile import loadTac
from txlb.tap import Options

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def service(**options):
    return Service("web", groups=[Group("g")], **options)


class DescriptionTests(SynchronousTestCase):
    def test_hostProxy(self):
        """
        C{Host(proxy=)} is v1, v2 or None; C{--backend ADDR,proxy=v2}
        reads into it.
        """
        self.assertEqual(Host("a", "127.0.0.1:1", proxy="v2").proxy, "v2")
        e = self.assertRaises(ConfigError, Host, "a", "127.0.0.1:1", proxy="v3")
        self.assertEqual(str(e), "host 'a': proxy must be 'v1', 'v2' or None, not 'v3'")
        self.assertEqual(parseBackend("127.0.0.1:1,proxy=v1").proxy, "v1")
        e = self.assertRaises(ConfigError, parseBackend, "127.0.0.1:1,proxy=yes")
        self.assertIn("proxy must be v1 or v2", str(e))

    def test_serviceLimits(self):
        """
        Access lists take one network or several; limits are whole numbers
        of at least 1; a bad network is one sentence naming it.
        """
        spec = service(allow="10.0.0.0/8", deny=["10.1.0.0/16"], maxClientConns=2, maxClientRate=5, maxconn=100)
        self.assertEqual((spec.allow, spec.deny), (("10.0.0.0/8",), ("10.1.0.0/16",)))
        cases = [
            (dict(allow=["10.0.0.300"]), "service 'web': allow: '10.0.0.300' is not a network"),
            (dict(deny=["x"]), "service 'web': deny: 'x' is not a network"),
            (dict(maxClientConns=0), "maxClientConns must be at least 1"),
            (dict(maxClientRate=1.5), "maxClientRate must be a whole number"),
            (dict(maxconn=0), "a service's maxconn must be at least 1"),
            (dict(proxyHeaderTimeout=0), "proxyHeaderTimeout must be above 0"),
        ]
        for options, words in cases:
            e = self.assertRaises(ConfigError, service, **options)
            self.assertIn(words, str(e))
        e = self.assertRaises(ConfigError, Balancer, maxconn=-1)
        self.assertIn("the balancer's maxconn must be at least 1", str(e))


class FlagTests(SynchronousTestCase):
    def parse(self, *args):
        options = Options()
        options.parseOptions(["--backend", "127.0.0.1:1", *args])
        return options

    def test_flagsReachTheService(self):
        """
        --allow/--deny (repeatable), --max-client-conns, --max-client-rate
        and --maxconn set up the quick-start service; a haproxy: listener
        reads PROXY headers.
        """
        options = self.parse(
            "--listen", "haproxy:tcp:0:interface=127.0.0.1",
            "--allow", "127.0.0.0/8", "--allow", "::1", "--deny", "127.0.0.2",
            "--max-client-conns", "3", "--max-client-rate", "10", "--maxconn", "50",
            "--backend", "127.0.0.1:2,proxy=v2",
        )
        proxy = options.service.proxies["default"]
        self.assertEqual([str(n) for n in proxy.access.allow], ["127.0.0.0/8", "::1/128"])
        self.assertFalse(proxy.access.permits("127.0.0.2"))
        self.assertEqual((proxy.limits.maxConns, proxy.limits.maxRate, proxy.cap.limit), (3, 10, 50))
        self.assertIsInstance(proxy.listeners[0].factory, ProxyHeaderFactory)
        self.assertEqual(proxy.pool.hosts["127.0.0.1:2"].proxy, "v2")
        arguments = options.workerArguments()
        self.assertIn("--deny", arguments)
        self.assertEqual(arguments.count("--allow"), 2)
        self.assertIn("--max-client-rate", arguments)

    def test_defaults(self):
        """
        Without the flags, everyone is accepted with no limit.
        """
        proxy = self.parse().service.proxies["default"]
        self.assertTrue(proxy.access.empty)
        self.assertIsNone(proxy.limits)
        self.assertIsNone(proxy.cap.limit)

    def test_mistakes(self):
        """
        Bad values exit with one sentence.
        """
        for args, words in [
            (("--allow", "10.0.0.0/40"), "--allow: '10.0.0.0/40' is not a network"),
            (("--deny", "nope"), "--deny: 'nope' is not a network"),
            (("--maxconn", "0"), "--maxconn must be a whole number of at least 1"),
            (("--max-client-rate", "x"), "--max-client-rate must be a whole number"),
            (("--listen", "haproxy:nosuch:1"), "listen endpoint 'nosuch:1' is not valid"),
        ]:
            e = self.assertRaises(SystemExit, self.parse, *args)
            self.assertTrue(str(e.code).startswith("twistd txlb: "), e.code)
            self.assertIn(words, str(e.code))

    def test_configClashes(self):
        """
        With --config, the flags are the .tac file's business.
        """
        e = self.assertRaises(SystemExit, Options().parseOptions, ["--config", "x.tac", "--deny", "10.0.0.1"])
        self.assertIn("drop --deny", str(e.code))


class ExampleTests(SynchronousTestCase):
    def test_edgeTac(self):
        """
        C{tacs/edge.tac} loads: a haproxy: listener with access control and
        limits, and a host sent PROXY headers.
        """
        top = list(loadTac(os.path.join(ROOT, "tacs", "edge.tac")))[0]
        proxy = top.proxies["web"]
        self.assertIsInstance(proxy.listeners[0].factory, ProxyHeaderFactory)
        self.assertFalse(proxy.access.empty)
        self.assertIsNotNone(proxy.limits)
        self.assertEqual({h.proxy for h in proxy.pool.hosts.values()}, {"v2"})


class AdminConfigTests(SynchronousTestCase):
    def test_getConfigShowsTheEdgeSettings(self):
        """
        The admin's C{getConfig} carries the access lists and limits, the
        process's maxconn and each host's PROXY header version, and reads
        back as the same description.
        """
        spec = Balancer(
            services=[
                Service(
                    "web",
                    groups=[Group("g", hosts=[Host("a", "127.0.0.1:1", proxy="v1"), Host("b", "127.0.0.1:2")])],
                    deny=["10.0.0.0/8"],
                    maxClientRate=7,
                ),
            ],
            maxconn=5,
        )
        plain = configOf(Builder(MemoryReactorClock()).balancer(spec))
        web = plain["services"]["web"]
        self.assertEqual((web["deny"], web["maxClientRate"], plain["maxconn"]), (["10.0.0.0/8"], 7, 5))
        self.assertEqual(web["groups"]["g"]["hosts"]["a"]["proxy"], "v1")
        self.assertEqual(fromPlain(Balancer, plain), spec)


class CheckCommandTests(SynchronousTestCase):
    def test_checkShowsTheEdgeSettings(self):
        """
        C{txlb check} shows a service's access lists and limits and each
        host's PROXY header version.
        """
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            self.assertEqual(main(["check", os.path.join(ROOT, "tacs", "edge.tac")]), 0)
        text = out.getvalue()
        self.assertIn("balancer: maxconn=20000", text)
        self.assertIn(
            " allow=10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,127.0.0.0/8 deny=10.66.0.0/16 "
            "maxClientConns=20 maxClientRate=50 maxconn=10000 proxyHeaderTimeout=3",
            text,
        )
        self.assertIn("host app1: address=127.0.0.1:8081 weight=1 backup=no maxconn=none tls=none proxy=v2", text)


class DemoTests(SynchronousTestCase):
    def test_demoTakesTheFlags(self):
        """
        --demo honours --deny and the limits like a quick-start service.
        """
        options = Options()
        options.parseOptions(["--demo", "--listen", "tcp:0", "--deny", "10.0.0.0/8", "--maxconn", "9"])
        proxy = options.service.proxies["default"]
        self.assertFalse(proxy.access.permits("10.1.1.1"))
        self.assertEqual(proxy.cap.limit, 9)
