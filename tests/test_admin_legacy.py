"""
Unit tests for pythondirector's web API (L{txlb.admin._legacy}) on a built
balancer (memory reactor): each old path maps onto the admin operation,
answers C{OK} or C{error: ...} with a fitting HTTP status, changes nothing
when refused, and C{running.xml} reads back through C{txlb convert}.
"""

from twisted.internet.defer import Deferred
from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import SynchronousTestCase
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET
from twisted.web.test.requesthelper import DummyRequest

from txlb.admin import AdminAPI, AdminService
from txlb.admin._legacy import ACTIONS, installLegacyWebAPI, runningText
from txlb.builder import Builder, build
from txlb.config import Admin, Balancer, Group, Host, Service
from txlb.convert import interpret, readXML


class LegacyCase(SynchronousTestCase):
    def setUp(self):
        self.reactor = MemoryReactorClock()
        spec = Balancer(services=[Service("web", listen=["tcp:8080:interface=127.0.0.1"], groups=[
            Group("blue", scheduler="leastconns", hosts=[
                Host("a", "127.0.0.1:8081"), Host("b", "127.0.0.1:8082", weight=2, maxconn=5)]),
            Group("green", hosts=[Host("c", "127.0.0.1:8083", backup=True)]),
        ])])
        self.balancer = build(spec, reactor=self.reactor)
        self.api = AdminAPI(self.balancer, Builder(self.reactor))

    def root(self, api=None, user="tester", readOnly=False):
        root = Resource()
        root.putChild(b"", Resource())
        return installLegacyWebAPI(root, api or self.api, user, readOnly)

    def get(self, path, args=None, headers=None, method=b"GET", **rootOptions):
        """
        GET C{/path?args} from a legacy root; return the request once answered.
        """
        request = DummyRequest([b""])
        request.method = method
        request.args = {k.encode(): [v.encode()] for k, v in (args or {}).items()}
        for name, value in (headers or {}).items():
            request.requestHeaders.setRawHeaders(name, [value])
        resource = self.root(**rootOptions).children[path.encode()]
        result = resource.render(request)
        if result is not NOT_DONE_YET:
            request.write(result)
            request.finish()
        return request

    def body(self, request):
        self.assertEqual(request.finished, 1)
        return b"".join(request.written).decode()

    def hosts(self, group="blue"):
        return {name: host.address for name, host in self.balancer.proxies["web"].pools[group].hosts.items()}

    def assertRefused(self, status, path, args, **options):
        before = self.api.getConfig()
        request = self.get(path, args, **options)
        self.assertEqual(request.responseCode, status, self.body(request))
        self.assertTrue(self.body(request).startswith("error: "), self.body(request))
        self.assertEqual(self.body(request).count("\n"), 1)
        self.assertEqual(self.api.getConfig(), before)
        return self.body(request)


class ChangeTests(LegacyCase):
    def test_addHost(self):
        """
        /addHost?service=&group=&name=&ip= adds the host (with its weight when
        given) and answers OK.
        """
        request = self.get("addHost", {"service": "web", "group": "blue", "name": "d",
                                       "ip": "127.0.0.1:8084", "weight": "3"})
        self.assertEqual((request.responseCode, self.body(request)), (200, "OK\n"))
        self.assertEqual(self.hosts()["d"], "127.0.0.1:8084")
        self.assertEqual(self.balancer.proxies["web"].pools["blue"].hosts["d"].weight, 3)

    def test_delHostByNameOrAddress(self):
        """
        /delHost takes the host's name, or its address as pythondirector's
        delHost did (ip=).
        """
        self.assertEqual(self.body(self.get("delHost", {"service": "web", "group": "blue", "name": "a"})), "OK\n")
        self.assertEqual(
            self.body(self.get("delHost", {"service": "web", "group": "blue", "ip": "127.0.0.1:8082"})), "OK\n"
        )
        self.assertEqual(self.hosts(), {})

    def test_groupChanges(self):
        """
        /enableGroup, /changeScheduler (old names too) and /delAllHosts do
        what the XML-RPC methods of the same names do.
        """
        self.assertEqual(self.body(self.get("enableGroup", {"service": "web", "group": "green"})), "OK\n")
        self.assertEqual(self.balancer.proxies["web"].enabledGroup, "green")
        self.assertEqual(self.body(self.get(
            "changeScheduler", {"service": "web", "group": "blue", "scheduler": "leastconnsrr"})), "OK\n")
        self.assertEqual(self.balancer.proxies["web"].pools["blue"].schedulerSpec, "leastconnsrr")
        self.assertEqual(self.body(self.get("delAllHosts", {"service": "web", "group": "blue"})), "OK\n")
        self.assertEqual(self.hosts(), {})

    def test_hostStates(self):
        """
        /hostAdminDown puts a host in maintenance, /hostAdminUp brings it
        back, /retryHost (host= as pythondirector wrote it) answers OK.
        """
        pool = self.balancer.proxies["web"].pools["blue"]
        self.assertEqual(self.body(self.get("hostAdminDown", {"service": "web", "group": "blue", "name": "a"})),
                         "OK\n")
        self.assertEqual(pool.hosts["a"].state, "maint")
        self.assertEqual(self.body(self.get("hostAdminUp", {"service": "web", "group": "blue", "ip": "127.0.0.1:8081"})),
                         "OK\n")
        self.assertEqual(pool.hosts["a"].state, "up")
        self.assertEqual(self.body(self.get("retryHost", {"service": "web", "group": "blue", "host": "a"})), "OK\n")

    def test_refusals(self):
        """
        Each refusal is one line C{error: ...} with a status saying its kind
        (404 unknown, 400 bad or missing argument, 409 conflict), and
        changes nothing.
        """
        self.assertIn("no service named 'nosuch'",
                      self.assertRefused(404, "addHost", {"service": "nosuch", "group": "blue", "name": "d",
                                                          "ip": "127.0.0.1:1"}))
        self.assertRefused(404, "delHost", {"service": "web", "group": "blue", "ip": "127.0.0.1:9"})
        self.assertIn("needs group, name, ip", self.assertRefused(400, "addHost", {"service": "web"}))
        self.assertIn("name (or ip)", self.assertRefused(400, "delHost", {"service": "web", "group": "blue"}))
        self.assertIn("no argument 'color'",
                      self.assertRefused(400, "enableGroup", {"service": "web", "group": "blue", "color": "red"}))
        self.assertRefused(400, "addHost", {"service": "web", "group": "blue", "name": "d", "ip": "nowhere"})
        self.assertRefused(400, "addHost", {"service": "web", "group": "blue", "name": "d",
                                            "ip": "127.0.0.1:1", "weight": "heavy"})
        self.assertRefused(409, "addHost", {"service": "web", "group": "blue", "name": "a", "ip": "127.0.0.1:1"})
        self.assertRefused(400, "changeScheduler", {"service": "web", "group": "blue", "scheduler": "bogus"})
        self.assertRefused(400, "delHost", {"service": "web", "group": "blue", "name": "a", "ip": "127.0.0.1:8082"})

    def test_readOnly(self):
        """
        A read-only user gets 403 for every change, and nothing changes.
        """
        for name in ACTIONS:
            self.assertIn("may only read",
                          self.assertRefused(403, name, {"service": "web", "group": "blue", "name": "a"},
                                             readOnly=True))

    def test_crossSite(self):
        """
        A change a browser says comes from another site (Sec-Fetch-Site, or
        an Origin other than the admin's host) is refused; same-origin and
        header-less (script) requests are not.
        """
        args = {"service": "web", "group": "blue", "name": "a"}
        self.assertRefused(403, "hostAdminDown", args, headers={"Sec-Fetch-Site": "cross-site"})
        self.assertRefused(403, "hostAdminDown", args,
                           headers={"Origin": "http://evil.example", "Host": "lb:8001"})
        request = self.get("hostAdminDown", args, headers={"Origin": "http://lb:8001", "Host": "lb:8001",
                                                           "Sec-Fetch-Site": "same-origin"})
        self.assertEqual(self.body(request), "OK\n")

    def test_headChangesNothing(self):
        """
        HEAD on a change is 405 (Twisted would otherwise run it as a GET).
        """
        request = self.get("delAllHosts", {"service": "web", "group": "blue"}, method=b"HEAD")
        self.assertEqual(request.responseCode, 405)
        self.assertEqual(len(self.hosts()), 2)

    def test_deferredOperations(self):
        """
        With an API whose changes answer later (as with --workers, where a
        change waits for every worker), the answer waits for it too.
        """
        pending = []

        class Later:
            def __getattr__(_, name):
                return getattr(self.api, name)

            def delHost(_, user, *args):
                d = Deferred()
                pending.append((d, args))
                return d

        request = self.get("delHost", {"service": "web", "group": "blue", "name": "a"}, api=Later())
        self.assertEqual(request.finished, 0)
        d, args = pending[0]
        self.assertEqual(args, ("web", "blue", "a"))
        d.callback(True)
        self.assertEqual(self.body(request), "OK\n")


class ViewTests(LegacyCase):
    def test_runningText(self):
        """
        /running.txt is pythondirector's: a service line per listener, a
        group line, a host line per usable host (with its open count) and a
        disabled line (with its state) for the others.
        """
        self.balancer.proxies["web"].pools["blue"].setState(
            self.balancer.proxies["web"].pools["blue"].hosts["b"], "maint", "test")
        request = self.get("running.txt")
        self.assertEqual(request.responseCode, 200)
        self.assertEqual(request.responseHeaders.getRawHeaders(b"content-type"), [b"text/plain; charset=utf-8"])
        self.assertEqual(self.body(request).splitlines(), [
            "service web tcp:8080:interface=127.0.0.1 blue",
            "group blue enabled",
            "host a 127.0.0.1:8081 0 -",
            "disabled b 127.0.0.1:8082 maint -",
            "group green inactive",
            "host c 127.0.0.1:8083 0 -",
        ])

    def test_runningXMLConvertsBack(self):
        """
        /running.xml is pythondirector's XML, and txlb convert reads it back
        into the same services, groups, schedulers, hosts and enabled group.
        """
        self.get("addHost", {"service": "web", "group": "green", "name": "d", "ip": "127.0.0.1:8084"})
        request = self.get("running.xml")
        self.assertEqual(request.responseHeaders.getRawHeaders(b"content-type"), [b"text/xml; charset=utf-8"])
        text = self.body(request)
        self.assertTrue(text.startswith('<?xml version="1.0" encoding="utf-8"?>\n<pdconfig>'))
        conversion = interpret(readXML(text.encode(), "running.xml"), "running.xml", None)
        self.assertEqual(conversion.warnings, ())
        (service,) = conversion.balancer.services
        self.assertEqual(service.listen, ("tcp:8080:interface=127.0.0.1",))
        self.assertEqual(service.enabledGroup, "blue")
        blue, green = service.groups
        self.assertEqual(blue.scheduler, "leastconns")
        self.assertEqual([(h.name, h.address, h.weight, h.maxconn) for h in blue.hosts],
                         [("a", "127.0.0.1:8081", 1, None), ("b", "127.0.0.1:8082", 2, 5)])
        self.assertEqual([(h.name, h.backup) for h in green.hosts], [("c", True), ("d", False)])

    def test_runningTextOfNothing(self):
        """
        A balancer without services has an empty running.txt.
        """
        self.assertEqual(runningText({}), "")


class ServiceTests(SynchronousTestCase):
    def test_onlyWhenAsked(self):
        """
        The admin serves the old paths only with legacyWebAPI=True; /running
        is then the status page.
        """
        reactor = MemoryReactorClock()
        for legacy in (False, True):
            spec = Balancer(services=[Service("web", groups=[Group("g")])],
                            admin=Admin(["tcp:0:interface=127.0.0.1"], legacyWebAPI=legacy))
            top = Builder(reactor).balancer(spec)
            root = top.getServiceNamed("admin").makeRoot()
            paths = {b"running", b"running.txt", b"running.xml", *(n.encode() for n in ACTIONS)}
            self.assertEqual(paths <= set(root.children), legacy)
            if legacy:
                self.assertIs(root.children[b"running"], root.children[b""])
        self.assertIsInstance(top.getServiceNamed("admin"), AdminService)
