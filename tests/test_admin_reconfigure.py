"""
Unit tests for the admin's reconfiguration calls (L{txlb.admin._reconfigure})
on a built, running balancer (memory reactor): each call changes the
running tree and the running description alike; C{applyConfig} makes
every change of a new description or none.
"""

import attr
from twisted.internet.error import CannotListenError
from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import SynchronousTestCase
from twisted.web.xmlrpc import Fault

from txlb.admin import BAD_ARGUMENT, CONFLICT, FAILED, NOT_FOUND, AdminAPI, AdminRPC
from txlb.builder import Builder
from txlb.config import Balancer, Group, HealthCheck, Host, Service
from txlb.diff import canonical
from txlb.plain import fromPlain, toPlain

BUSY_PORT = 9999


class _Reactor(MemoryReactorClock):
    """
    A memory reactor on which port 9999 is always taken.
    """

    def listenTCP(self, port, factory, backlog=50, interface=""):
        if port == BUSY_PORT:
            raise CannotListenError(interface, port, OSError(98, "Address already in use"))
        return MemoryReactorClock.listenTCP(self, port, factory, backlog, interface)


SPEC = Balancer(services=[
    Service("web", listen="tcp:8080:interface=127.0.0.1", groups=[
        Group("blue", hosts=[Host("a", "127.0.0.1:8081"), Host("b", "127.0.0.1:8082", weight=2)]),
        Group("green", hosts=[Host("c", "127.0.0.1:8083")]),
    ]),
])


class ReconfigureCase(SynchronousTestCase):
    def setUp(self):
        self.reactor = _Reactor()
        self.builder = Builder(self.reactor)
        self.balancer = self.builder.balancer(SPEC)
        self.balancer.startService()
        self.addCleanup(self.balancer.stopService)
        self.api = AdminAPI(self.balancer, self.builder)

    def call(self, name, *args):
        return AdminRPC(self.api, "tester").lookupProcedure(name)(*args)

    def config(self):
        return fromPlain(Balancer, self.call("getConfig"))

    def snapshot(self):
        proxies = {
            name: (
                [l.description for l in proxy.listeners],
                proxy.enabledGroup,
                proxy.settings,
                {g: (p.schedulerSpec, list(p.hosts.items())) for g, p in proxy.pools.items()},
            )
            for name, proxy in self.balancer.proxies.items()
        }
        return self.call("getConfig"), proxies

    def assertFault(self, code, name, *args):
        before = self.snapshot()
        result = self.call(name, *args)
        self.assertIsInstance(result, Fault, f"{name} did not fail")
        self.assertEqual(result.faultCode, code, result.faultString)
        self.assertEqual(self.snapshot(), before, f"{name} changed something")
        return result.faultString


class CallTests(ReconfigureCase):
    def test_getConfigIsTheDescription(self):
        """
        getConfig answers the description the balancer was built from, as
        plain data that reads back to it.
        """
        self.assertEqual(self.config(), SPEC)

    def test_addHostWithSettings(self):
        """
        addHost's fifth argument may be a struct of settings: the host is a
        backup with a maxconn, in the pool and in getConfig.
        """
        self.assertTrue(self.call("addHost", "web", "blue", "d", "127.0.0.1:8084",
                                  {"backup": True, "maxconn": 5}))
        host = self.balancer.proxies["web"].pools["blue"].hosts["d"]
        self.assertEqual((host.backup, host.maxconn), (True, 5))
        hosts = self.call("getConfig")["services"]["web"]["groups"]["blue"]["hosts"]
        self.assertEqual(hosts["d"], {"address": "127.0.0.1:8084", "weight": 1, "backup": True, "maxconn": 5})

    def test_olderCallsFollowed(self):
        """
        The older calls (addHost with a weight, setWeight, delHost,
        enableGroup) change the running description too.
        """
        self.call("addHost", "web", "blue", "d", "127.0.0.1:8084", 3)
        self.call("setWeight", "web", "blue", "a", 4)
        self.call("delHost", "web", "blue", "b")
        self.call("enableGroup", "web", "green")
        service = self.config().services[0]
        self.assertEqual(service.enabledGroup, "green")
        self.assertEqual(service.groups[0].hosts, (Host("a", "127.0.0.1:8081", weight=4),
                                                   Host("d", "127.0.0.1:8084", weight=3)))

    def test_setHostAddress(self):
        """
        setHost with a new address puts a new host in the pool (the old one
        drains) and keeps the others.
        """
        pool = self.balancer.proxies["web"].pools["blue"]
        old = pool.hosts["a"]
        self.assertTrue(self.call("setHost", "web", "blue", "a", {"address": "127.0.0.1:9001"}))
        self.assertEqual(pool.hosts["a"].address, "127.0.0.1:9001")
        self.assertIsNot(pool.hosts["a"], old)
        self.assertEqual(old.state, "draining")
        self.call("setHost", "web", "blue", "b", {"weight": 7})
        self.assertEqual(pool.hosts["b"].weight, 7)

    def test_listeners(self):
        """
        addListener binds one more endpoint; delListener stops one.
        """
        proxy = self.balancer.proxies["web"]
        self.assertTrue(self.call("addListener", "web", "tcp:8090"))
        self.assertEqual([l.description for l in proxy.listeners], ["tcp:8080:interface=127.0.0.1", "tcp:8090"])
        self.assertEqual(self.reactor.tcpServers[-1][0], 8090)
        self.assertTrue(self.call("delListener", "web", "tcp:8080:interface=127.0.0.1"))
        self.assertEqual([l.description for l in proxy.listeners], ["tcp:8090"])
        self.assertEqual(self.config().services[0].listen, ("tcp:8090",))

    def test_setServiceAndGroup(self):
        """
        setService changes the relay settings new connections read;
        setGroup the scheduler, queue and health checks; health services
        whose settings did not change keep running.
        """
        proxy = self.balancer.proxies["web"]
        self.call("setService", "web", {"connectTimeout": 2.5, "idleTimeout": 30.0})
        self.assertEqual((proxy.settings.connectTimeout, proxy.settings.idleTimeout), (2.5, 30.0))
        self.call("setGroup", "web", "blue", {"scheduler": "leastconns", "queueSize": 3,
                                              "check": {"kind": "tcp", "interval": 5.0}})
        pool = proxy.pools["blue"]
        self.assertEqual((pool.schedulerSpec, pool.queueSize), ("leastconns", 3))
        self.assertIn("health:blue", proxy.namedServices)
        self.assertEqual(self.config().services[0].groups[0].check, HealthCheck(interval=5.0))
        checker = proxy.namedServices["health:blue"]
        self.call("setGroup", "web", "blue", {"slowStart": 10.0})
        self.assertIs(proxy.namedServices["health:blue"], checker)
        self.assertIn("slowstart:blue", proxy.namedServices)
        self.call("setGroup", "web", "blue", {"check": False})
        self.assertNotIn("health:blue", proxy.namedServices)

    def test_faults(self):
        """
        Unknown names, taken names and bad settings are Faults that change
        nothing.
        """
        self.assertFault(NOT_FOUND, "setHost", "web", "blue", "zz", {"weight": 1})
        self.assertFault(NOT_FOUND, "delListener", "web", "tcp:1")
        self.assertFault(CONFLICT, "addGroup", "web", "blue", {})
        self.assertIn("'wieght'", self.assertFault(BAD_ARGUMENT, "setHost", "web", "blue", "a", {"wieght": 1}))
        self.assertFault(BAD_ARGUMENT, "setGroup", "web", "blue", {"scheduler": "nosuch"})
        self.assertFault(BAD_ARGUMENT, "addListener", "web", "nonsense:1")
        self.assertFault(FAILED, "addListener", "web", f"tcp:{BUSY_PORT}")


class ApplyTests(ReconfigureCase):
    def target(self):
        return Balancer(services=[
            Service("web", listen=["tcp:8080:interface=127.0.0.1", "tcp:8091"], enabledGroup="green",
                    connectTimeout=1.0, groups=[
                Group("blue", scheduler="leastconns",
                      hosts=[Host("b", "127.0.0.1:8082"), Host("d", "127.0.0.1:8084", backup=True)]),
                Group("green", hosts=[Host("c", "127.0.0.1:8083", maxconn=9)]),
            ]),
            Service("api", listen="tcp:8070", groups=[Group("g", hosts=[Host("x", "127.0.0.1:7000")])]),
        ])

    def test_apply(self):
        """
        applyConfig makes the tree and the description match the new one,
        and answers the changes as txlbctl commands; applying it again
        changes nothing.
        """
        target = self.target()
        changes = self.call("applyConfig", toPlain(target))
        self.assertTrue(any(c.startswith("txlbctl add-service api ") for c in changes), changes)
        self.assertEqual(canonical(self.config()), canonical(target))
        proxy = self.balancer.proxies["web"]
        self.assertEqual(proxy.enabledGroup, "green")
        self.assertEqual(list(proxy.pools["blue"].hosts), ["b", "d"])
        self.assertTrue(proxy.pools["blue"].hosts["d"].backup)
        self.assertEqual(proxy.pools["green"].hosts["c"].maxconn, 9)
        self.assertEqual(proxy.settings.connectTimeout, 1.0)
        self.assertEqual(list(self.balancer.proxies["api"].pools["g"].hosts), ["x"])
        self.assertEqual(self.call("applyConfig", toPlain(target)), [])

    def test_allOrNothing(self):
        """
        One change that cannot be made (a bad address, an unknown
        scheduler) makes applyConfig a Fault naming it, with nothing
        changed.
        """
        target = self.target()
        web = target.services[0]
        bad = attr.evolve(web, groups=[web.groups[0], attr.evolve(web.groups[1], scheduler="nosuch")])
        message = self.assertFault(BAD_ARGUMENT, "applyConfig", toPlain(attr.evolve(target, services=[bad])))
        self.assertIn("txlbctl set-group web green", message)
        bad = attr.evolve(web, groups=[web.groups[0], Group("green", hosts=[Host("c", "no port")])])
        self.assertFault(BAD_ARGUMENT, "applyConfig", toPlain(attr.evolve(target, services=[bad])))

    def test_bindFailureUndoes(self):
        """
        A new listener that cannot bind makes applyConfig fail with the
        sentence of the failure, and the listeners and services bound
        before it are closed again.
        """
        target = self.target()
        web = attr.evolve(target.services[0], listen=["tcp:8080:interface=127.0.0.1", f"tcp:{BUSY_PORT}"])
        message = self.assertFault(FAILED, "applyConfig", toPlain(attr.evolve(target, services=[web, target.services[1]])))
        self.assertIn(f"cannot listen on tcp:{BUSY_PORT}", message)
        self.assertNotIn("api", self.balancer.proxies)

    def test_badData(self):
        """
        Data that is no description is a Fault naming what is wrong.
        """
        message = self.assertFault(BAD_ARGUMENT, "applyConfig", {"services": {"web": {"groups": {}}}})
        self.assertIn("needs at least one group", message)
        self.assertFault(BAD_ARGUMENT, "applyConfig", {"servces": {}})
