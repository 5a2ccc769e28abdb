"""
Migration as a user does it: the real C{txlb convert}, C{txlb passwd} and
C{txlb check} commands on pythondirector XML files, a real twistd running a
converted file and relaying to the real backends it names, and
pythondirector's web API driving a real twistd (also with C{--workers 2}).
"""

import os
import shlex
import shutil
import subprocess
import tempfile
import urllib.error

from twisted.trial.unittest import SynchronousTestCase

from tests.support import TXLB, Twistd, environment, name, request, startBackend, startTwistd
from tests.test_integration_admin import addUser, fetch
from tests.test_integration_workers import serving

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pdxml")


def secret(user):
    """
    The password the tests give C{user}.
    """
    return f"{user}-password"


def run(testCase, argv, stdin=None):
    """
    Run a C{txlb} command; return C{(status, stdout, stderr)}.
    """
    done = subprocess.run(TXLB + list(argv), input=stdin, capture_output=True, timeout=60, env=environment())
    return done.returncode, done.stdout.decode(), done.stderr.decode()


class MigrationCase(SynchronousTestCase):
    def setUp(self):
        self.directory = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.directory, True)
        self.users = os.path.join(self.directory, "users")

    def write(self, name, text):
        path = os.path.join(self.directory, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def convert(self, xmlPath, *options):
        """
        C{txlb convert} a file, then run the C{txlb passwd} commands it
        prints (a password per user on standard input); return the path of
        the .tac and what went to standard error.
        """
        status, tac, errors = run(self, ["convert", xmlPath, "--users-file", self.users, *options])
        self.assertEqual(status, 0, errors)
        self.assertNotIn("Traceback", errors)
        for line in errors.splitlines():
            if line.startswith("    txlb passwd "):
                argv = shlex.split(line)[1:] + ["--password-stdin"]
                status, out, err = run(self, argv, stdin=secret(argv[2]).encode() + b"\n")
                self.assertEqual(status, 0, out + err)
        return self.write(os.path.basename(xmlPath) + ".tac", tac), errors

    def check(self, tac):
        status, out, errors = run(self, ["check", tac])
        self.assertEqual(status, 0, out + errors)
        self.assertTrue(out.endswith(": OK\n"), out)
        return out


class ConvertCommandTests(MigrationCase):
    def test_filesConvertAndCheck(self):
        """
        Each pythondirector and txLoadBalancer test file converts, and once
        the printed txlb passwd commands have run, txlb check accepts the
        .tac and lists every service, group and host of the file.
        """
        expected = {
            "finder": ["service finder: listen=tcp:8080,tcp:8081:interface=127.0.0.1 enabledGroup=Cluster1",
                       "group Cluster1 (enabled): scheduler=leastconns", "host mx2: address=mx2.example.com:25"],
            "oldclient": ["group main (enabled): scheduler=random", "host host.2: address=192.168.1.12:8080"],
            "txloadbalancer": ["service apache: listen=tcp6:9080", "host server3: address=[::1]:7003 weight=20"],
        }
        for stem, lines in expected.items():
            tac, errors = self.convert(os.path.join(DATA, stem + ".xml"))
            out = self.check(tac)
            for line in lines:
                self.assertIn(line, out)
        with open(self.users) as f:
            self.assertEqual(sorted(line.split(":")[:2] for line in f if not line.startswith("#")),
                         [["anthony", "admin"], ["guest", "readonly"]])

    def test_warningsAndAdvice(self):
        """
        Warnings name their line; the crypt() hashes are said not to carry
        over, with a txlb passwd command per user; the log file is given to
        twistd --logfile.
        """
        _, errors = self.convert(os.path.join(DATA, "finder.xml"))
        self.assertIn("txlb convert: warning: finder.xml, line 15: unknown element <stats>", errors)
        self.assertIn("crypt() password hashes cannot be carried over", errors)
        self.assertIn(f"    txlb passwd {self.users} anthony --role admin\n", errors)
        self.assertIn(f"    txlb passwd {self.users} guest --role readonly\n", errors)
        self.assertIn("twistd --logfile /var/log/pydir.log", errors)

    def test_malformed(self):
        """
        Malformed XML: one sentence with the line on standard error, nothing
        on standard output, exit status 1, no traceback; the same for a file
        that is not there.
        """
        status, out, errors = run(self, ["convert", os.path.join(DATA, "malformed.xml")])
        self.assertEqual((status, out), (1, ""))
        self.assertEqual(errors, "txlb convert: malformed.xml, line 7: malformed XML: mismatched tag\n")
        status, out, errors = run(self, ["convert", os.path.join(self.directory, "nosuch.xml")])
        self.assertEqual((status, out, errors.count("\n")), (1, "", 1))
        self.assertIn("No such file", errors)


SITE = """<?xml version="1.0"?>
<pdconfig>
    <service name="web">
        <listen ip="127.0.0.1:0"/>
        <group name="blue" scheduler="roundr">
            <client name="a" ip="{a}"/>
            <host name="b" ip="{b}"/>
        </group>
        <group name="green" scheduler="leastc">
            <host name="c" ip="{c}"/>
        </group>
        <enable group="blue"/>
    </service>
    <service name="mail">
        <listen ip="127.0.0.1:0"/>
        <group name="smtp" scheduler="leastconnsrr">
            <host name="c" ip="{c}"/>
        </group>
        <enable group="smtp"/>
    </service>
    <admin listen="127.0.0.1:0">
        <user name="root" password="aNfG6RWeeL5SI" access="full"/>
        <user name="viewer" password="gUx4Lp0Zx1bTs" access="readonly"/>
    </admin>
</pdconfig>
"""


class RunTests(MigrationCase):
    def setUp(self):
        MigrationCase.setUp(self)
        self.a, self.b, self.c, self.d = (startBackend(self, name, n) for n in "ABCD")
        xml = self.write("site.xml", SITE.format(a=self.a.address, b=self.b.address, c=self.c.address))
        tac, _ = self.convert(xml, "--legacy-web-api")
        self.assertIn("legacyWebAPI=yes", self.check(tac))
        self.process, self.web = startTwistd(self, ["txlb", "--config", tac], service="web")
        self.mail = self.process.address("mail")
        host, port = self.process.address("admin")
        self.admin = f"http://{host}:{port}"

    def legacy(self, path, user="root"):
        return fetch(self.admin + path, user, secret(user) if user else None)

    def assertRefused(self, code, path, user):
        with self.assertRaises(urllib.error.HTTPError) as caught:
            self.legacy(path, user)
        self.assertEqual(caught.exception.code, code)
        return caught.exception.read().decode()

    def test_relaysToTheHostsItNames(self):
        """
        The converted file runs: each service relays to the backends the
        XML named for its enabled group.
        """
        self.assertEqual({request(self.web) for _ in range(6)}, {b"A\n", b"B\n"})
        self.assertEqual({request(self.mail) for _ in range(3)}, {b"C\n"})

    def test_legacyWebAPI(self):
        """
        The old web API behind the converted admin's users: without
        credentials 401, a read-only user reads running.txt but gets 403
        for addHost; the full user adds a host and removes the old ones by
        name and by address, and traffic follows; running.xml converts back
        to a .tac naming the new host.
        """
        add = f"/addHost?service=web&group=blue&name=d&ip={self.d.address}"
        self.assertRefused(401, "/running.txt", None)
        self.assertRefused(401, add, None)
        status, text = self.legacy("/running.txt", "viewer")
        self.assertIn("group blue enabled\n", text)
        self.assertIn(f"host a {self.a.address} 0 -\n", text)
        self.assertIn("may only read", self.assertRefused(403, add, "viewer"))
        self.assertEqual(self.legacy(add), (200, "OK\n"))
        self.assertEqual(self.legacy("/delHost?service=web&group=blue&name=a"), (200, "OK\n"))
        self.assertEqual(self.legacy(f"/delHost?service=web&group=blue&ip={self.b.address}"), (200, "OK\n"))
        self.assertEqual({request(self.web) for _ in range(4)}, {b"D\n"})
        self.assertIn("no service named 'nosuch'",
                      self.assertRefused(404, "/delHost?service=nosuch&group=blue&name=d", "root"))
        _, running = self.legacy("/running.xml", "viewer")
        tac, _ = self.convert(self.write("running.xml", running))
        out = self.check(tac)
        self.assertIn(f"host d: address={self.d.address}", out)
        self.assertNotIn(self.a.address, out)

    def test_enableGroup(self):
        """
        /enableGroup sends new clients to the other group.
        """
        self.assertEqual(self.legacy("/enableGroup?service=web&group=green"), (200, "OK\n"))
        self.assertEqual({request(self.web) for _ in range(3)}, {b"C\n"})


class WorkersTests(SynchronousTestCase):
    def test_legacyChangesReachEveryWorker(self):
        """
        With --workers 2 and --admin-legacy-web-api, a host added and one
        removed through the old web API change both workers (with users,
        unauthenticated calls are refused).
        """
        directory = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, directory, True)
        users = os.path.join(directory, "users")
        addUser(self, users, "root", secret("root"), "admin")
        a, b = startBackend(self, name, "A"), startBackend(self, name, "B")
        process, address = startTwistd(self, [
            "txlb", "--workers", "2", "--listen", "tcp:0:interface=127.0.0.1", "--backend", a.address,
            "--admin", "tcp:0:interface=127.0.0.1", "--admin-users", users, "--admin-legacy-web-api",
        ])
        serving(process)
        host, port = process.address("admin")
        base = f"http://{host}:{port}"
        with self.assertRaises(urllib.error.HTTPError) as caught:
            fetch(f"{base}/running.txt")
        self.assertEqual(caught.exception.code, 401)
        self.assertEqual(fetch(f"{base}/addHost?service=default&group=default&name=b&ip={b.address}", "root", secret("root")),
                         (200, "OK\n"))
        self.assertEqual(fetch(f"{base}/delHost?service=default&group=default&ip={a.address}", "root", secret("root")),
                         (200, "OK\n"))
        self.assertEqual({request(address) for _ in range(40)}, {b"B\n"})
        self.assertIn("is serving", process.output)


class FlagTests(SynchronousTestCase):
    def test_needsAdmin(self):
        """
        --admin-legacy-web-api without --admin is one sentence and a
        non-zero exit.
        """
        process = Twistd(["txlb", "--listen", "tcp:0:interface=127.0.0.1", "--backend", "127.0.0.1:1",
                          "--admin-legacy-web-api"])
        self.addCleanup(process.stop)
        self.assertNotEqual(process.wait(), 0)
        self.assertIn("--admin-legacy-web-api needs --admin ENDPOINT", process.output)
        self.assertNotIn("Traceback", process.output)
