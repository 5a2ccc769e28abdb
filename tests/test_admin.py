"""
Unit tests for the admin's XML-RPC methods on a built balancer (memory
reactor): every change works, every bad call is a Fault that changes
nothing, read-only users change nothing, passwords are never stored.
"""

import os

from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import SynchronousTestCase
from twisted.web.xmlrpc import Fault

from tests.support import temporaryFile
from txlb.admin import (
    BAD_ARGUMENT,
    CONFLICT,
    FAILED,
    FORBIDDEN,
    METHODS,
    NOT_FOUND,
    AdminAPI,
    AdminRPC,
    UserFile,
    hashPassword,
    verifyPassword,
)
from txlb.admin._service import isLocal
from txlb.address import listenEndpoint
from txlb.builder import Builder, build
from txlb.config import Balancer, Group, Host, Service

WRITES = {name: spec for name, (spec, _, writes, _) in METHODS.items() if writes}


class AdminCase(SynchronousTestCase):
    def setUp(self):
        self.reactor = MemoryReactorClock()
        spec = Balancer(services=[Service("web", groups=[
            Group("blue", hosts=[Host("a", "127.0.0.1:8081"), Host("b", "127.0.0.1:8082", weight=2)]),
            Group("green"),
        ])])
        self.balancer = build(spec, reactor=self.reactor)
        self.api = AdminAPI(self.balancer, Builder(self.reactor))

    def call(self, name, *args, readOnly=False):
        return AdminRPC(self.api, "tester", readOnly).lookupProcedure(name)(*args)

    def snapshot(self):
        return self.call("getConfig"), self.call("getStatus")

    def assertFault(self, code, name, *args, readOnly=False):
        before = self.snapshot()
        result = self.call(name, *args, readOnly=readOnly)
        self.assertIsInstance(result, Fault, f"{name}{args} did not fail")
        self.assertEqual(result.faultCode, code, result.faultString)
        self.assertNotIn("Traceback", result.faultString)
        self.assertEqual(self.snapshot(), before, f"{name}{args} changed something")
        return result.faultString


class InformationTests(AdminCase):
    def test_status(self):
        """
        getStatus has the keys the docs promise, per service, group and host.
        """
        self.balancer.proxies["web"].pools["blue"].hosts["a"].bytesIn = 2**40
        status = self.call("getStatus")["web"]
        self.assertEqual(status["enabledGroup"], "blue")
        host = status["groups"]["blue"]["hosts"]["a"]
        for key in ("address", "weight", "state", "open", "total", "failed", "bytesIn", "bytesOut",
                    "lastFailure", "history"):
            self.assertIn(key, host)
        self.assertEqual(host["bytesIn"], float(2**40))
        self.assertEqual(status["groups"]["blue"]["scheduler"], "roundrobin")

    def test_config(self):
        """
        getConfig answers the running description: services, groups and
        hosts by name, with every field (weights here).
        """
        config = self.call("getConfig")
        self.assertEqual(config["services"]["web"]["groups"]["blue"]["hosts"]["b"]["weight"], 2)
        self.assertEqual(self.call("listServices"), ["web"])


class ChangeTests(AdminCase):
    def test_hosts(self):
        """
        addHost, setWeight, hostAdminDown/Up and delHost change the pool.
        """
        pool = self.balancer.proxies["web"].pools["blue"]
        self.assertTrue(self.call("addHost", "web", "blue", "c", "127.0.0.1:8083", 3))
        self.assertEqual(pool.hosts["c"].weight, 3)
        self.call("setWeight", "web", "blue", "c", 5)
        self.assertEqual(pool.hosts["c"].weight, 5)
        self.call("hostAdminDown", "web", "blue", "c")
        self.assertEqual(pool.hosts["c"].state, "maint")
        self.call("hostAdminUp", "web", "blue", "c")
        self.assertEqual(pool.hosts["c"].state, "up")
        self.call("delHost", "web", "blue", "c")
        self.assertNotIn("c", pool.hosts)
        self.assertEqual(self.call("delAllHosts", "web", "green"), 0)

    def test_groupsAndServices(self):
        """
        newGroup, changeScheduler, enableGroup, delGroup, newService and
        delService change the tree.
        """
        proxy = self.balancer.proxies["web"]
        self.call("newGroup", "web", "canary", "leastconns")
        self.call("changeScheduler", "web", "canary", "hash:load=1.5")
        self.assertEqual(proxy.pools["canary"].schedulerSpec, "hash:load=1.5")
        self.call("enableGroup", "web", "green")
        self.assertEqual(proxy.enabledGroup, "green")
        self.call("delGroup", "web", "blue")
        self.assertNotIn("blue", proxy.pools)
        self.assertTrue(self.call("newService", "api", "tcp:9000:interface=127.0.0.1"))
        self.assertIn("api", self.balancer.proxies)
        self.call("delService", "api")
        self.assertNotIn("api", self.balancer.proxies)


class FaultTests(AdminCase):
    def test_unknownNames(self):
        """
        Unknown services, groups and hosts are NOT_FOUND.
        """
        self.assertIn("no service named 'nosuch'", self.assertFault(NOT_FOUND, "addHost", "nosuch", "blue", "c", "127.0.0.1:1"))
        self.assertFault(NOT_FOUND, "addHost", "web", "nosuch", "c", "127.0.0.1:1")
        self.assertFault(NOT_FOUND, "delHost", "web", "blue", "nosuch")
        self.assertFault(NOT_FOUND, "enableGroup", "web", "nosuch")
        self.assertFault(NOT_FOUND, "delService", "nosuch")

    def test_badArguments(self):
        """
        Bad addresses, weights, schedulers, endpoints, types and counts are
        BAD_ARGUMENT.
        """
        self.assertFault(BAD_ARGUMENT, "addHost", "web", "blue", "c", "nowhere")
        self.assertFault(BAD_ARGUMENT, "addHost", "web", "blue", "c", "127.0.0.1:1", -1)
        self.assertFault(BAD_ARGUMENT, "addHost", "web", "blue", "c")
        self.assertFault(BAD_ARGUMENT, "setWeight", "web", "blue", "a", "heavy")
        self.assertFault(BAD_ARGUMENT, "setWeight", "web", "blue", "a", True)
        self.assertFault(BAD_ARGUMENT, "changeScheduler", "web", "blue", "nosuch")
        self.assertFault(BAD_ARGUMENT, "newGroup", "web", "x", "hash:load=0")
        self.assertFault(BAD_ARGUMENT, "newService", "api", "bogus:1")
        self.assertFault(BAD_ARGUMENT, "delService", 42)
        self.assertFault(BAD_ARGUMENT, "shutdown", -1)

    def test_conflicts(self):
        """
        Taken names and deleting the enabled group are CONFLICT.
        """
        self.assertFault(CONFLICT, "addHost", "web", "blue", "a", "127.0.0.1:1")
        self.assertFault(CONFLICT, "newGroup", "web", "green", "roundrobin")
        self.assertFault(CONFLICT, "delGroup", "web", "blue")
        self.assertFault(CONFLICT, "newService", "web", "tcp:0")

    def test_bindFailure(self):
        """
        A new service whose listener cannot bind is FAILED and is not kept.
        """
        self.balancer.startService()
        self.addCleanup(self.balancer.stopService)
        self.reactor.listenTCP = lambda *a, **k: (_ for _ in ()).throw(OSError("address in use"))
        self.assertIn("cannot listen", self.assertFault(FAILED, "newService", "api", "tcp:9000"))

    def test_readOnly(self):
        """
        A read-only user may read, and gets FORBIDDEN from every write
        method, with nothing changed.
        """
        self.assertEqual(self.call("listServices", readOnly=True), ["web"])
        samples = {"string": "web", "int": 1, "double": 1.0, "struct": {}, "array": [], "int|struct": 1}
        for name, spec in WRITES.items():
            args = [samples[kind] for _, kind in spec]
            self.assertFault(FORBIDDEN, name, *args, readOnly=True)


class UserTests(SynchronousTestCase):
    def test_hashes(self):
        """
        A stored password is a salted scrypt hash that verifies the right
        password only.
        """
        encoded = hashPassword("s3cret")
        self.assertNotIn("s3cret", encoded)
        self.assertNotEqual(encoded, hashPassword("s3cret"))
        self.assertTrue(verifyPassword("s3cret", encoded))
        self.assertFalse(verifyPassword("s3cret!", encoded))
        self.assertFalse(verifyPassword("s3cret", "garbage"))

    def test_fileErrors(self):
        """
        Read strictly (as txlb passwd does), a malformed users file is one
        sentence with the line; a missing one is one sentence too.
        """
        from txlb.errors import ConfigError

        path = temporaryFile(self, "alice:admin:plaintext\n", suffix=".users")
        e = self.assertRaises(ConfigError, UserFile(path).load)
        self.assertIn(f"{path}, line 1: expected name:role:scrypt", str(e))
        e = self.assertRaises(ConfigError, UserFile("/nonexistent/users").load)
        self.assertIn("cannot read the admin users file", str(e))

    def test_saveIsPrivate(self):
        """
        The file is written readable by its owner only.
        """
        path = temporaryFile(self, "", suffix=".users")
        users = UserFile(path)
        users.save({"bob": ("readonly", hashPassword("pw"))})
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
        self.assertEqual(UserFile(path).role("bob"), "readonly")


class LoopbackTests(SynchronousTestCase):
    def test_isLocal(self):
        """
        Loopback interfaces and UNIX sockets are local; the wildcard and
        other addresses are not.
        """
        reactor = MemoryReactorClock()
        for description, local in [
            ("tcp:8081:interface=127.0.0.1", True),
            ("tcp6:8081:interface=\\:\\:1", True),
            ("unix:/run/txlb-admin.sock", True),
            ("tcp:8081", False),
            ("tcp:8081:interface=0.0.0.0", False),
            ("tcp:8081:interface=192.0.2.1", False),
        ]:
            self.assertEqual(isLocal(listenEndpoint(description, reactor)), local, description)


class HangupTests(SynchronousTestCase):
    def test_sighupWhileRunning(self):
        """
        An admin with users hears SIGHUP (re-reading its users file) while
        it runs, and gives the signal back when it stops.
        """
        import signal

        from txlb.admin import AdminService

        path = temporaryFile(self, "", suffix=".users")
        os.chmod(path, 0o600)
        UserFile(path).save({"bob": ("admin", hashPassword("pw"))})
        reactor = MemoryReactorClock()
        reactor.callFromThread = lambda f, *args: f(*args)
        before = signal.getsignal(signal.SIGHUP)
        admin = AdminService(build(Balancer(services=[Service("web", groups=[Group("g")])]), reactor=reactor),
                             ["tcp:0:interface=127.0.0.1"], Builder(reactor), users=path)
        admin.startService()
        self.assertIsNot(signal.getsignal(signal.SIGHUP), before)
        UserFile(path).save({})
        signal.getsignal(signal.SIGHUP)(signal.SIGHUP, None)
        self.assertEqual(admin.userFile.users(), {})
        admin.stopService()
        self.assertEqual(signal.getsignal(signal.SIGHUP), before)
