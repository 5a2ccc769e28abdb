"""
Tests for the description objects, address parsing, .tac loading and the
quick-start flags: every mistake is one clear sentence.
"""

import os

from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import SynchronousTestCase
from zope.interface.verify import verifyObject

from tests.support import temporaryFile
from txlb.address import EndpointConnector, TCPConnector, backendConnector, listenEndpoint
from txlb.builder import build
from txlb.config import Balancer, Group, Host, Service, parseBackend
from txlb.errors import ConfigError
from txlb.interfaces import IBackend, IConnector, IScheduler
from txlb.tacfile import loadTac
from txlb.tap import Options


class AddressTests(SynchronousTestCase):
    def setUp(self):
        self.reactor = MemoryReactorClock()

    def test_hostPort(self):
        """
        HOST:PORT and [IPv6]:PORT take the lean TCP path.
        """
        for address, host, port in [
            ("127.0.0.1:8081", "127.0.0.1", 8081),
            ("[::1]:8081", "::1", 8081),
            ("app.example:80", "app.example", 80),
        ]:
            connector = backendConnector(address, self.reactor)
            self.assertIsInstance(connector, TCPConnector)
            verifyObject(IConnector, connector)
            self.assertEqual((connector.host, connector.port), (host, port))

    def test_endpointStrings(self):
        """
        Client endpoint strings (unix:, tcp:host=...) are accepted as they are.
        """
        for address in ["unix:/run/app.sock", "tcp:host=127.0.0.1:port=8081"]:
            self.assertIsInstance(backendConnector(address, self.reactor), EndpointConnector)

    def test_badBackends(self):
        """
        A bad backend address is one sentence naming it.
        """
        for address, words in [
            ("", "non-empty"),
            ("nowhere", "neither HOST:PORT"),
            ("127.0.0.1:0", "port from 1 to 65535"),
            ("127.0.0.1:70000", "port from 1 to 65535"),
            ("bogus:thing", "not a valid endpoint"),
        ]:
            e = self.assertRaises(ConfigError, backendConnector, address, self.reactor)
            self.assertIn(words, str(e))
            self.assertNotIn("\n", str(e))

    def test_badListen(self):
        """
        A bad listen endpoint is one sentence naming it.
        """
        for description in ["8080", "tcp:abc", "bogus:1", ""]:
            e = self.assertRaises(ConfigError, listenEndpoint, description, self.reactor)
            self.assertIn("listen endpoint", str(e))


class DescriptionTests(SynchronousTestCase):
    def test_builds(self):
        """
        A description builds into proxies, pools and hosts with the same
        names and settings; the first group is enabled.
        """
        spec = Balancer(
            services=[
                Service(
                    "web",
                    listen="tcp:0",
                    groups=[
                        Group("blue", hosts=[Host("a", "127.0.0.1:1", weight=2, maxconn=5)]),
                        Group("green", hosts=[Host("b", "127.0.0.1:2", backup=True)]),
                    ],
                )
            ]
        )
        top = build(spec, reactor=MemoryReactorClock())
        proxy = top.proxies["web"]
        self.assertEqual(proxy.enabledGroup, "blue")
        host = proxy.pools["blue"].hosts["a"]
        verifyObject(IBackend, host)
        verifyObject(IScheduler, proxy.pools["blue"].scheduler)
        self.assertEqual((host.weight, host.maxconn, host.backup), (2, 5, False))
        self.assertTrue(proxy.pools["green"].hosts["b"].backup)
        self.assertEqual([l.description for l in proxy.listeners], ["tcp:0"])

    def test_mistakes(self):
        """
        Each mistake in a description raises ConfigError with one sentence.
        """
        cases = [
            (lambda: Host("", "127.0.0.1:1"), "host name"),
            (lambda: Host("a", "127.0.0.1:1", weight=-1), "weight must be at least 0"),
            (lambda: Host("a", "127.0.0.1:1", weight="3"), "weight must be a whole number"),
            (lambda: Host("a", "127.0.0.1:1", maxconn=0), "maxconn must be at least 1"),
            (lambda: Group("g", hosts=[Host("a", "x:1"), Host("a", "y:1")]), "two hosts are named 'a'"),
            (lambda: Group("g", hosts=["127.0.0.1:1"]), "must be a Host(...)"),
            (lambda: Service("s"), "needs at least one group"),
            (lambda: Service("s", groups=[Group("g")], enabledGroup="h"), "no group named 'h'"),
            (lambda: Service("s", groups=[Group("g")], connectTimeout=0), "connectTimeout must be above 0"),
            (lambda: Balancer(services=[Service("s", groups=[Group("g")])] * 2), "two services"),
            (
                lambda: build(
                    Balancer(services=[Service("s", listen="nope", groups=[Group("g")])]),
                    reactor=MemoryReactorClock(),
                ),
                "listen endpoint 'nope'",
            ),
            (
                lambda: build(
                    Balancer(services=[Service("s", groups=[Group("g", scheduler="nosuch")])]),
                    reactor=MemoryReactorClock(),
                ),
                "unknown scheduler 'nosuch'; known schedulers: roundrobin",
            ),
        ]
        for make, words in cases:
            e = self.assertRaises(ConfigError, make)
            self.assertIn(words, str(e))

    def test_parseBackend(self):
        """
        --backend ADDR[,weight=N][,backup][,maxconn=N] reads into a Host
        named after its address.
        """
        self.assertEqual(
            parseBackend("127.0.0.1:8082,weight=3,backup,maxconn=7"),
            Host("127.0.0.1:8082", "127.0.0.1:8082", weight=3, backup=True, maxconn=7),
        )
        for text, words in [
            ("127.0.0.1:1,weight=x", "weight must be a whole number"),
            ("127.0.0.1:1,colour=red", "unknown option 'colour=red'"),
            ("127.0.0.1:1,weight=-2", "at least 0"),
        ]:
            e = self.assertRaises(ConfigError, parseBackend, text)
            self.assertIn(words, str(e))


class TacTests(SynchronousTestCase):
    def tac(self, source):
        return temporaryFile(self, source)

    def test_loads(self):
        """
        A .tac defining an application gives its service tree.
        """
        path = self.tac(
            "from txlb.config import *\n"
            "from txlb.tac import application\n"
            "application = application(Balancer(services=[Service('s', listen='tcp:0',"
            " groups=[Group('g', hosts=[Host('a', '127.0.0.1:1')])])]))\n"
        )
        service = loadTac(path)
        self.assertEqual(list(service)[0].proxies["s"].name, "s")

    def test_mistakes(self):
        """
        A syntax error, an exception, a ConfigError, no application or the
        wrong object each give one sentence with the file and line.
        """
        cases = [
            ("x = (\n", "{name}, line 1: "),
            ("import os\nraise RuntimeError('boom')\n", "{name}, line 2: RuntimeError: boom"),
            ("from txlb.config import Host\nHost('a', 'b:1', weight=-1)\n", "{name}, line 2: a host's weight"),
            ("x = 1\n", "{name} defines no 'application'"),
            ("application = 'web'\n", "{name}: 'application' is a str"),
        ]
        for source, expected in cases:
            path = self.tac(source)
            e = self.assertRaises(ConfigError, loadTac, path)
            self.assertIn(expected.format(name=os.path.basename(path)), str(e))

    def test_missingFile(self):
        """
        A missing file is named with the reason.
        """
        e = self.assertRaises(ConfigError, loadTac, "/nonexistent/site.tac")
        self.assertEqual(str(e), "cannot read /nonexistent/site.tac: No such file or directory")


class OptionsTests(SynchronousTestCase):
    def parse(self, *args):
        options = Options()
        options.parseOptions(list(args))
        return options

    def test_quickStart(self):
        """
        --listen and --backend (repeatable) build the service 'default' with
        its group 'default'.
        """
        options = self.parse(
            "--listen", "tcp:0", "--listen", "tcp:0:interface=127.0.0.1",
            "--backend", "127.0.0.1:8081", "--backend", "127.0.0.1:8082,weight=3",
            "--backend", "127.0.0.1:8083,backup", "--connect-timeout", "2",
            "--idle-timeout", "30",
        )
        proxy = options.service.proxies["default"]
        pool = proxy.pools["default"]
        self.assertEqual(list(pool.hosts), ["127.0.0.1:8081", "127.0.0.1:8082", "127.0.0.1:8083"])
        self.assertEqual(pool.hosts["127.0.0.1:8082"].weight, 3)
        self.assertTrue(pool.hosts["127.0.0.1:8083"].backup)
        self.assertEqual((proxy.settings.connectTimeout, proxy.settings.idleTimeout), (2.0, 30.0))
        self.assertEqual(len(proxy.listeners), 2)

    def test_mistakes(self):
        """
        Bad flags exit with one sentence, not a usage dump or a traceback.
        """
        for args, words in [
            ((), "nothing to balance"),
            (("--backend", "127.0.0.1:1,weight=x"), "weight must be a whole number"),
            (("--backend", "nowhere"), "neither HOST:PORT"),
            (("--backend", "127.0.0.1:1", "--listen", "tcp:x"), "listen endpoint 'tcp:x'"),
            (("--backend", "127.0.0.1:1", "--connect-timeout", "soon"), "--connect-timeout must be a number"),
            (("--backend", "127.0.0.1:1", "--scheduler", "nosuch"), "unknown scheduler"),
            (("--config", "x.tac", "--backend", "127.0.0.1:1"), "drop --backend"),
            (("--demo", "--backend", "127.0.0.1:1"), "--demo brings its own backends"),
        ]:
            e = self.assertRaises(SystemExit, self.parse, *args)
            self.assertTrue(str(e.code).startswith("twistd txlb: "), e.code)
            self.assertIn(words, str(e.code))


class DrainTimeoutTests(SynchronousTestCase):
    """
    C{Service.drainTimeout}, in a description and in the example C{.tac}.
    """

    def test_config(self):
        """
        C{Service.drainTimeout} defaults to 10 s and must not be negative.
        """
        self.assertEqual(Service("s", groups=[Group("g")]).drainTimeout, 10.0)
        self.assertRaises(ConfigError, Service, "s", groups=[Group("g")], drainTimeout=-1)

    def test_exampleTac(self):
        """
        C{tacs/graceful.tac} loads and sets a drain timeout of 30 s.
        """
        path = os.path.join(os.path.dirname(os.path.dirname(__file__)), "tacs", "graceful.tac")
        top = list(loadTac(path))[0]
        self.assertEqual(top.proxies["web"].drainTimeout, 30.0)


class BackendNameTests(SynchronousTestCase):
    """
    C{--backend} values with a name (L{txlb.config.parseBackend}).
    """

    def test_named(self):
        """
        NAME=ADDR and ADDR,name=NAME name the host; without a name it is
        named after its address; endpoint strings with '=' stay addresses.
        """
        from txlb.config import parseBackend

        self.assertEqual(parseBackend("app1=127.0.0.1:8081").name, "app1")
        self.assertEqual(parseBackend("app1=127.0.0.1:8081").address, "127.0.0.1:8081")
        self.assertEqual(parseBackend("127.0.0.1:8081,name=app2,weight=2").name, "app2")
        self.assertEqual(parseBackend("127.0.0.1:8081").name, "127.0.0.1:8081")
        unix = parseBackend("unix:path=/run/app.sock")
        self.assertEqual((unix.name, unix.address), ("unix:path=/run/app.sock", "unix:path=/run/app.sock"))
        self.assertEqual(parseBackend("web=unix:path=/run/app.sock").address, "unix:path=/run/app.sock")
        self.assertEqual(parseBackend("[::1]:80,name=v6").name, "v6")

    def test_mistakes(self):
        """
        An empty name or address, or two different names, are one sentence.
        """
        from txlb.config import parseBackend
        from txlb.errors import ConfigError

        for text, message in [
            ("=127.0.0.1:1", "write NAME=ADDRESS"),
            ("app=", "write NAME=ADDRESS"),
            ("a=127.0.0.1:1,name=b", "names the host twice"),
            ("127.0.0.1:1,nmae=b", "unknown option 'nmae=b'"),
        ]:
            e = self.assertRaises(ConfigError, parseBackend, text)
            self.assertIn(message, str(e))


class SignatureMistakeTests(SynchronousTestCase):
    """
    Value objects turn a wrong keyword or argument count into a
    L{ConfigError} (one sentence, also under C{twistd -y}).
    """

    def test_unknownKeyword(self):
        """
        A misspelt keyword is a ConfigError naming the object and keyword.
        """
        from txlb.config import Group, Host
        from txlb.errors import ConfigError

        e = self.assertRaises(ConfigError, Host, "a", "127.0.0.1:1", wieght=2)
        self.assertEqual(str(e), "Host() got an unexpected keyword argument 'wieght'")
        e = self.assertRaises(ConfigError, Group)
        self.assertIn("Group() missing 1 required positional argument", str(e))

    def test_caughtInside(self):
        """
        Outside twistd -y a ConfigError is an ordinary exception that code
        may catch.
        """
        from txlb.config import Host
        from txlb.errors import ConfigError

        try:
            Host("a", "127.0.0.1:1", weight=-1)
        except ConfigError as e:
            self.assertIn("weight", str(e))
        else:
            self.fail("no ConfigError")
