"""
Health in the description, the builder, the quick-start flags and the
heartbeat agent's command line.
"""

import io
from contextlib import redirect_stderr

from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import SynchronousTestCase

from tests.test_health_wire import keyFile, missingFile
from txlb.builder import build
from txlb.config import Balancer, Ejection, Group, HealthCheck, Heartbeat, Host, Service
from txlb.errors import ConfigError
from txlb.health import HealthChecker, HeartbeatListener, PassiveEjector, SlowStart
from txlb.health._agent import heartbeat
from txlb.tap import Options


def balancer(**group):
    return Balancer(services=[Service("web", listen=[], groups=[
        Group("g", hosts=[Host("a", "127.0.0.1:8081")], **group)])])


class DescriptionTests(SynchronousTestCase):
    def test_defaults(self):
        """
        A group has no checks, passive ejection with its defaults, the refuse
        policy, no slow start and no heartbeats unless it says so.
        """
        group = Group("g")
        self.assertEqual(
            (group.check, group.ejection, group.allDown, group.slowStart, group.heartbeat),
            (None, Ejection(failures=3, time=30.0, maxTime=300.0, maxShare=0.5),
             "refuse", None, None),
        )
        check = HealthCheck()
        self.assertEqual(
            (check.kind, check.interval, check.timeout, check.rise, check.fall, check.jitter),
            ("tcp", 2.0, 1.0, 2, 3, 0.1),
        )

    def test_errors(self):
        """
        Bad health values are one sentence each.
        """
        cases = [
            (lambda: HealthCheck(rise=0), "a check's rise must be at least 1"),
            (lambda: HealthCheck(interval=0), "a check's interval must be above 0"),
            (lambda: Group("g", check="tcp"), "a group's check must be a HealthCheck(...)"),
            (lambda: Group("g", allDown="shrug"), "allDown must be one of refuse, panic"),
            (lambda: Ejection(maxShare="half"), "an ejection maxShare must be a number"),
            (lambda: Heartbeat("udp:1", "k", deadAfter=-1), "deadAfter must be above 0"),
        ]
        for make, message in cases:
            self.assertRaisesRegex(ConfigError, message, make)


class BuilderTests(SynchronousTestCase):
    def children(self, **group):
        top = build(balancer(**group), reactor=MemoryReactorClock())
        proxy = top.getProxy("web")
        return proxy, {child.name: child for child in proxy if child.name}

    def test_services(self):
        """
        Each health part is a named child service of its proxy, built with the
        description's values; the pool gets the all-down policy.
        """
        proxy, children = self.children(
            check=HealthCheck("http:/health", {"status": "200"}, interval=0.5, rise=4),
            allDown="panic",
            slowStart=20.0,
            heartbeat=Heartbeat("udp:0", keyFile(self), register=True),
        )
        self.assertEqual(
            sorted(children), ["ejection:g", "health:g", "heartbeat:g", "slowstart:g"]
        )
        checker = proxy.getServiceNamed("health:g")
        self.assertIsInstance(checker, HealthChecker)
        self.assertEqual((checker.interval, checker.rise, checker.check.description),
                         (0.5, 4, "http:/health"))
        self.assertIsInstance(children["ejection:g"], PassiveEjector)
        self.assertFalse(children["ejection:g"].returnHosts)
        self.assertIsInstance(children["slowstart:g"], SlowStart)
        self.assertIsInstance(children["heartbeat:g"], HeartbeatListener)
        self.assertTrue(children["heartbeat:g"].register)
        self.assertEqual(proxy.pools["g"].allDown, "panic")

    def test_ejectionAlone(self):
        """
        Without checks, passive ejection brings hosts back itself; it can be
        turned off.
        """
        _, children = self.children()
        self.assertEqual(list(children), ["ejection:g"])
        self.assertTrue(children["ejection:g"].returnHosts)
        _, children = self.children(ejection=None)
        self.assertEqual(children, {})

    def test_badKeyFile(self):
        """
        An unreadable key file is one sentence naming the group.
        """
        self.assertRaisesRegex(
            ConfigError, "group 'g': cannot read the heartbeat key file",
            build, balancer(heartbeat=Heartbeat("udp:0", missingFile())),
            reactor=MemoryReactorClock(),
        )


class FlagTests(SynchronousTestCase):
    def parse(self, *argv):
        options = Options()
        options.parseOptions(list(argv))
        return options.service.getProxy("default")

    def test_check(self):
        """
        --check and its companions make a checker for the quick-start group.
        """
        proxy = self.parse(
            "--backend", "127.0.0.1:8081", "--check", "send-expect:PING:PONG",
            "--check-interval", "0.2", "--check-timeout", "0.1", "--rise", "3", "--fall", "4",
        )
        checker = proxy.getServiceNamed("health:default")
        self.assertEqual(
            (checker.check.description, checker.interval, checker.timeout, checker.rise,
             checker.fall),
            ("send-expect:PING:PONG", 0.2, 0.1, 3, 4),
        )

    def test_heartbeatWithoutBackend(self):
        """
        With --heartbeat, --backend may be left out, and unknown hosts may join.
        """
        proxy = self.parse("--heartbeat", "udp:0:interface=127.0.0.1",
                           "--heartbeat-key-file", keyFile(self))
        listener = proxy.getServiceNamed("heartbeat:default")
        self.assertTrue(listener.register)
        self.assertEqual(list(proxy.pools["default"].hosts), [])

    def test_errors(self):
        """
        Bad or incomplete health flags end twistd with one sentence.
        """
        cases = [
            (["--backend", "127.0.0.1:1", "--rise", "2"], "--rise needs --check"),
            (["--backend", "127.0.0.1:1", "--check", "tcp", "--fall", "x"],
             "--fall must be a whole number of at least 1, not 'x'"),
            (["--backend", "127.0.0.1:1", "--check", "tcp", "--check-interval", "0"],
             "--check-interval must be above 0 seconds"),
            (["--backend", "127.0.0.1:1", "--check", "ping"], "unknown check 'ping'"),
            (["--heartbeat", "udp:0"], "--heartbeat needs --heartbeat-key-file FILE"),
            (["--backend", "127.0.0.1:1", "--heartbeat-key-file", "k"],
             "--heartbeat-key-file needs --heartbeat"),
            (["--heartbeat", "tcp:0", "--heartbeat-key-file", keyFile(self)],
             "must be written udp:PORT"),
            ([], "nothing to balance"),
        ]
        for argv, message in cases:
            with self.assertRaises(SystemExit) as raised:
                Options().parseOptions(argv)
            self.assertIn(message, str(raised.exception))


class AgentTests(SynchronousTestCase):
    def agent(self, *argv):
        err = io.StringIO()
        with redirect_stderr(err):
            code = heartbeat(list(argv), reactor=MemoryReactorClock())
        return code, err.getvalue()

    def test_errors(self):
        """
        A bad destination or key file is one sentence and exit status 1.
        """
        base = ["--name", "a", "--address", "127.0.0.1:8081"]
        cases = [
            (["--to", "nowhere", "--key-file", keyFile(self)], "--to 'nowhere' must be HOST:PORT"),
            (["--to", "127.0.0.1:9", "--key-file", missingFile()],
             "cannot read the heartbeat key file"),
            (["--to", "127.0.0.1:9", "--key-file", keyFile(self), "--weight", "-3"],
             "weight must be a whole number from 0 to 10000"),
        ]
        for extra, message in cases:
            code, err = self.agent(*(base + extra))
            self.assertEqual(code, 1)
            self.assertIn(message, err)
            self.assertEqual(err.count("\n"), 1)
