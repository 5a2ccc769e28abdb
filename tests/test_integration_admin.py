"""
The admin as a user drives it: a real twistd, real backends, the real
XML-RPC client, txlbctl, txlb passwd, /metrics and the status page.
"""

import base64
import json
import os
import shutil
import subprocess
import tempfile
import urllib.error
import urllib.request
import xmlrpc.client

from twisted.trial.unittest import SkipTest, SynchronousTestCase

from tests.support import (
    TWISTD,
    TXLB,
    Process,
    Twistd,
    environment,
    name,
    request,
    startBackend,
    startTwistd,
)
from txlb.admin import METHODS

LISTEN = ["--listen", "tcp:0:interface=127.0.0.1"]
ADMIN = ["--admin", "tcp:0:interface=127.0.0.1"]
TXLBCTL = [TXLB[0], "-c", "import sys; from txlb.admin.ctl import main; sys.exit(main())"]


def adminURL(process, path="/RPC2", user=None, password=None):
    host, port = process.address("admin")
    credentials = f"{user}:{password}@" if user else ""
    return f"http://{credentials}{host}:{port}{path}"


def fetch(url, user=None, password=None):
    req = urllib.request.Request(url)
    if user is not None:
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        req.add_header("Authorization", f"Basic {token}")
    with urllib.request.urlopen(req, timeout=10) as response:
        return response.status, response.read().decode()


class AdminTests(SynchronousTestCase):
    def setUp(self):
        self.a = startBackend(self, name, "A")
        self.b = startBackend(self, name, "B")
        self.process, self.address = startTwistd(self, ["txlb", *LISTEN, *ADMIN, "--backend", self.a.address])
        self.rpc = xmlrpc.client.ServerProxy(adminURL(self.process))

    def test_listMethods(self):
        """
        system.listMethods lists every method of the API.
        """
        methods = self.rpc.system.listMethods()
        for method in METHODS:
            self.assertIn(method, methods)
        self.assertIn("addHost", self.rpc.system.methodHelp("addHost").lower() + "addHost")

    def test_addAndDeleteHost(self):
        """
        addHost makes new clients reach the new backend; delHost stops
        them; getStatus shows what the clients caused.
        """
        self.assertTrue(self.rpc.addHost("default", "default", "b", self.b.address))
        self.assertEqual({request(self.address) for _ in range(4)}, {b"A\n", b"B\n"})
        self.assertTrue(self.rpc.delHost("default", "default", self.a.address))
        self.assertEqual({request(self.address) for _ in range(4)}, {b"B\n"})
        hosts = self.rpc.getStatus()["default"]["groups"]["default"]["hosts"]
        self.assertEqual(hosts["b"]["total"], 6)
        self.assertEqual(hosts["b"]["open"], 0)
        self.assertEqual(hosts["b"]["bytesOut"], 12.0)

    def test_faultChangesNothing(self):
        """
        addHost on an unknown service is a Fault and leaves getStatus and
        getConfig as they were.
        """
        before = self.rpc.getStatus(), self.rpc.getConfig()
        with self.assertRaises(xmlrpc.client.Fault) as caught:
            self.rpc.addHost("nosuch", "default", "b", self.b.address)
        self.assertEqual(caught.exception.faultCode, 1)
        self.assertEqual((self.rpc.getStatus(), self.rpc.getConfig()), before)

    def test_metricsAndPage(self):
        """
        /metrics parses as Prometheus text with the clients' counts; the
        status page names every host.
        """
        from prometheus_client.parser import text_string_to_metric_families

        request(self.address)
        status, text = fetch(adminURL(self.process, "/metrics"))
        families = {f.name: f for f in text_string_to_metric_families(text)}
        [sample] = families["txlb_host_connections"].samples
        self.assertEqual(sample.value, 1)
        self.assertEqual(sample.labels["host"], self.a.address)
        self.rpc.addHost("default", "default", "b", self.b.address)
        _, page = fetch(adminURL(self.process, "/"))
        self.assertIn(self.a.address, page)
        self.assertIn(">b<", page)

    def test_txlbctl(self):
        """
        txlbctl status prints a table, --json prints JSON, and a Fault
        prints its message and exits non-zero.
        """
        url = adminURL(self.process)
        table = Process(TXLBCTL + ["--url", url, "status"])
        self.assertEqual(table.wait(), 0)
        self.assertIn("SERVICE", table.output)
        self.assertIn(self.a.address, table.output)
        asJSON = Process(TXLBCTL + ["--url", url, "--json", "status"])
        self.assertEqual(asJSON.wait(), 0)
        self.assertEqual(json.loads(asJSON.output)["default"]["enabledGroup"], "default")
        added = Process(TXLBCTL + ["--url", url, "add-host", "default", "default", "b", self.b.address, "2"])
        self.assertEqual(added.wait(), 0)
        refused = Process(TXLBCTL + ["--url", url, "add-host", "nosuch", "default", "c", self.b.address])
        self.assertEqual(refused.wait(), 1)
        self.assertIn("txlbctl: there is no service named 'nosuch' (fault 1)", refused.output)


def addUser(testCase, path, user, password, role):
    """
    Add a user with C{txlb passwd --password-stdin}, as a script would.
    """
    process = Process(TXLB + ["passwd", path, user, "--role", role, "--password-stdin"],
                      stdin=password.encode() + b"\n")
    testCase.assertEqual(process.wait(), 0, process.output)


class SecurityTests(SynchronousTestCase):

    def test_users(self):
        """
        With --admin-users: no or wrong credentials get 401; a readonly user
        reads but gets a Fault from addHost; an admin may change things; the
        file holds no plain password.
        """
        directory = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, directory)
        users = os.path.join(directory, "users")
        addUser(self, users, "root", "correct horse", "admin")
        addUser(self, users, "viewer", "battery staple", "readonly")
        with open(users) as f:
            content = f.read()
        self.assertNotIn("correct horse", content)
        self.assertNotIn("battery staple", content)
        a = startBackend(self, name, "A")
        process, _ = startTwistd(self, ["txlb", *LISTEN, *ADMIN, "--admin-users", users, "--backend", a.address])
        url = adminURL(process, "/")
        for user, password in [(None, None), ("root", "wrong"), ("nobody", "x"), ("root", "")]:
            with self.assertRaises(urllib.error.HTTPError) as caught:
                fetch(url, user, password)
            self.assertEqual(caught.exception.code, 401)
        viewer = xmlrpc.client.ServerProxy(adminURL(process, user="viewer", password="battery%20staple"))
        self.assertIn("default", viewer.getStatus())
        with self.assertRaises(xmlrpc.client.Fault) as caught:
            viewer.addHost("default", "default", "b", "127.0.0.1:1")
        self.assertEqual(caught.exception.faultCode, 4)
        root = xmlrpc.client.ServerProxy(adminURL(process, user="root", password="correct%20horse"))
        self.assertTrue(root.setWeight("default", "default", a.address, 2))
        self.assertNotIn("correct horse", process.output)

    def test_publicWithoutUsers(self):
        """
        An admin on 0.0.0.0 without --admin-users refuses to start, saying why.
        """
        process = Twistd(["txlb", *LISTEN, "--admin", "tcp:0:interface=0.0.0.0", "--backend", "127.0.0.1:1"])
        self.addCleanup(process.stop)
        self.assertNotEqual(process.wait(), 0)
        self.assertIn("would be reachable from other machines without a password", process.output)
        self.assertNotIn("Traceback", process.output)


class BrowserTests(SynchronousTestCase):
    def test_statusPageInChromium(self):
        """
        Headless Chromium renders the status page, which names every host.
        """
        chromium = shutil.which("chromium") or shutil.which("chromium-browser")
        if chromium is None:
            raise SkipTest("chromium is not installed (apt-get install chromium)")
        a = startBackend(self, name, "A")
        b = startBackend(self, name, "B")
        process, address = startTwistd(
            self, ["txlb", *LISTEN, *ADMIN, "--backend", a.address, "--backend", b.address,
                   "--project-url", "https://example.org/txlb"]
        )
        request(address)
        profile = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, profile, True)
        result = subprocess.run(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}", "--dump-dom", adminURL(process, "/")],
            capture_output=True, timeout=60, env=environment(),
        )
        dom = result.stdout.decode()
        self.assertIn("txlb status", dom)
        self.assertIn(a.address, dom)
        self.assertIn(b.address, dom)
        self.assertIn('class="state state-up"', dom)
        self.assertIn("https://example.org/txlb", dom)


class LifecycleTests(SynchronousTestCase):
    def test_reopenLogAndShutdown(self):
        """
        reopenLog rotates twistd's log file (as SIGUSR1 does), and
        shutdown(drainSeconds) stops txlb cleanly.
        """
        directory = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, directory, True)
        logfile = os.path.join(directory, "txlb.log")
        a = startBackend(self, name, "A")
        process = Process(
            TWISTD + ["-n", "--pidfile=", f"--logfile={logfile}", "txlb", *LISTEN, *ADMIN,
                      "--backend", a.address]
        )
        self.addCleanup(process.stop)
        from faults._clients import settle

        def adminAddress():
            if not os.path.exists(logfile):
                return None
            with open(logfile) as f:
                found = [line for line in f if "service admin listening on" in line]
            return found[0].split("listening on ")[1].split()[0] if found else None

        address = settle(adminAddress, lambda a: a is not None, 20)
        rpc = xmlrpc.client.ServerProxy(f"http://{address}/RPC2")
        self.assertTrue(rpc.reopenLog())
        settle(lambda: os.path.exists(logfile + ".1"), bool, 10)
        self.assertTrue(os.path.exists(logfile + ".1"))
        self.assertTrue(rpc.shutdown(1.0))
        self.assertIn(process.wait(30), (0, -15))


class TLSTests(SynchronousTestCase):
    def test_httpsBesideLoopback(self):
        """
        The admin serves HTTPS on an ssl: endpoint (with users, since it is
        not loopback-only) beside a plain loopback endpoint, both at once.
        """
        import ssl

        from tests.support import selfSigned

        keyPath, certPath = selfSigned(self)
        directory = os.path.dirname(keyPath)
        users = os.path.join(directory, "users")
        addUser(self, users, "root", "pw-long-enough", "admin")
        a = startBackend(self, name, "A")
        process, _ = startTwistd(self, [
            "txlb", *LISTEN, "--backend", a.address, "--admin-users", users,
            "--admin", "tcp:0:interface=127.0.0.1",
            "--admin", f"ssl:0:privateKey={keyPath}:certKey={certPath}:interface=127.0.0.1",
        ])
        addresses = process.waitFor(r"service admin listening on (\S+) \((\w+):", count=2)
        kinds = {m.group(2): m.group(1) for m in addresses}
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        secure = xmlrpc.client.ServerProxy(f"https://root:pw-long-enough@{kinds['ssl']}/RPC2", context=context)
        plain = xmlrpc.client.ServerProxy(f"http://root:pw-long-enough@{kinds['tcp']}/RPC2")
        self.assertEqual(secure.listServices(), ["default"])
        self.assertEqual(plain.listServices(), ["default"])
