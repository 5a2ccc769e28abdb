"""
Live reconfiguration as users run it: a real twistd, real backends,
txlbctl diff/apply/dump, SIGHUP and --state.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import xmlrpc.client

from twisted.trial.unittest import SynchronousTestCase

from tests.support import TXLB, echo, environment, name, request, startBackend, startTwistd
from tests.test_integration_admin import TXLBCTL, adminURL

TAC = """\
from txlb.config import Admin, Balancer, Group, Host, Service
from txlb.tac import application

application = application(Balancer(
    services=[
        Service("web", listen="tcp:0:interface=127.0.0.1", connectTimeout=2.0, groups=[
            Group("g", hosts=[{hosts}]),
        ]),
    ],
    admin=Admin("tcp:0:interface=127.0.0.1"),
))
"""


def tac(*hosts):
    """
    The text of a .tac with one service whose group holds C{hosts}
    (C{(name, address, extra)} tuples).
    """
    return TAC.format(hosts=", ".join(f"Host({n!r}, {a!r}{e})" for n, a, e in hosts))


def txlbctl(url, *args):
    """
    Run txlbctl; return C{(exit status, standard output, standard error)}.
    """
    done = subprocess.run(
        [*TXLBCTL, "--url", url, *args], env=environment(), capture_output=True, text=True, timeout=60
    )
    return done.returncode, done.stdout, done.stderr


class ReconfigureCase(SynchronousTestCase):
    def setUp(self):
        self.directory = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.directory, True)

    def write(self, filename, text):
        path = os.path.join(self.directory, filename)
        with open(path + ".new", "w") as f:
            f.write(text)
        os.replace(path + ".new", path)
        return path

    def start(self, args, service="web"):
        process, address = startTwistd(self, ["txlb", *args], service=service)
        return process, address, adminURL(process)


class DiffApplyTests(ReconfigureCase):
    def test_diffApplyDiff(self):
        """
        txlbctl diff against an edited file exits 1 and prints the commands
        (new host before the removed one); apply makes them; diff then
        exits 0 and new clients follow the file.
        """
        a, b = startBackend(self, name, "A"), startBackend(self, name, "B")
        site = self.write("site.tac", tac(("a", a.address, "")))
        process, address, url = self.start(["--config", site])
        self.assertEqual(request(address), b"A\n")
        self.write("site.tac", tac(("b", b.address, ", maxconn=50")))
        status, out, err = txlbctl(url, "diff", site)
        self.assertEqual(status, 1, err)
        lines = out.splitlines()
        self.assertEqual(len(lines), 2, out)
        self.assertTrue(lines[0].startswith(f"txlbctl add-host web g b {b.address} "), out)
        self.assertEqual(lines[1], "txlbctl del-host web g a")
        status, out, err = txlbctl(url, "apply", site)
        self.assertEqual(status, 0, err)
        self.assertEqual(txlbctl(url, "diff", site), (0, "", ""))
        self.assertEqual({request(address) for _ in range(6)}, {b"B\n"})
        rpc = xmlrpc.client.ServerProxy(url)
        self.assertEqual(rpc.getConfig()["services"]["web"]["groups"]["g"]["hosts"]["b"]["maxconn"], 50)

    def test_brokenFileChangesNothing(self):
        """
        apply of a file with a mistake is one sentence naming the file and
        line, exit 1, nothing changed; diff of it exits 2.
        """
        a = startBackend(self, name, "A")
        site = self.write("site.tac", tac(("a", a.address, "")))
        process, address, url = self.start(["--config", site])
        before = xmlrpc.client.ServerProxy(url).getConfig()
        broken = self.write("broken.tac", tac(("a", a.address, ", weight=-1")))
        status, out, err = txlbctl(url, "apply", broken)
        self.assertEqual(status, 1)
        self.assertIn("broken.tac, line 7: a host's weight must be at least 0", err)
        self.assertEqual(txlbctl(url, "diff", broken)[0], 2)
        self.assertEqual(xmlrpc.client.ServerProxy(url).getConfig(), before)

    def test_dumpRoundTrips(self):
        """
        txlbctl dump prints a .tac that txlb check accepts, that runs to
        the same getConfig, and that diff against the balancer it came
        from finds nothing in.
        """
        a, b = startBackend(self, name, "A"), startBackend(self, name, "B")
        site = self.write("site.tac", tac(("a", a.address, ", weight=3, maxconn=10")))
        process, address, url = self.start(["--config", site])
        rpc = xmlrpc.client.ServerProxy(url)
        rpc.addHost("web", "g", "b", b.address, {"backup": True})
        rpc.setGroup("web", "g", {"scheduler": "leastconns", "ejection": False})
        status, dumped, err = txlbctl(url, "dump")
        self.assertEqual(status, 0, err)
        path = self.write("dumped.tac", dumped)
        check = subprocess.run([*TXLB, "check", path], env=environment(), capture_output=True, text=True)
        self.assertEqual(check.returncode, 0, check.stderr)
        self.assertEqual(txlbctl(url, "diff", path), (0, "", ""))
        again, address2, url2 = self.start(["--config", path])
        self.assertEqual(xmlrpc.client.ServerProxy(url2).getConfig(), rpc.getConfig())
        self.assertEqual(request(address2), b"A\n")

    def test_workers(self):
        """
        With --workers 2, apply changes every worker: all new clients,
        whichever worker accepts them, reach the new host. SIGHUP to
        worker 0 reloads every worker; SIGHUP to another worker is logged
        and changes nothing, and that worker goes on.
        """
        a, b = startBackend(self, name, "A"), startBackend(self, name, "B")
        site = self.write("site.tac", tac(("a", a.address, "")))
        process, address, url = self.start(["--workers", "2", "--config", site])
        worker = int(process.waitFor(r"worker 1 \(pid (\d+)\) is serving")[0].group(1))
        self.write("site.tac", tac(("b", b.address, "")))
        self.assertEqual(txlbctl(url, "apply", site)[0], 0)
        self.assertEqual({request(address) for _ in range(40)}, {b"B\n"})
        self.write("site.tac", tac(("a", a.address, "")))
        process.popen.send_signal(signal.SIGHUP)
        process.waitFor(r"SIGHUP: applied a new configuration \(2 changes\)")
        process.waitFor(r"SIGHUP: every worker runs the reloaded configuration")
        os.kill(worker, signal.SIGHUP)
        process.waitFor(r"SIGHUP ignored here: worker 0 reloads")
        self.assertEqual({request(address) for _ in range(40)}, {b"A\n"})
        self.assertEqual(xmlrpc.client.ServerProxy(url).getWorkers()[1]["pid"], worker)


class ReloadTests(ReconfigureCase):
    def reloadAddingHost(self, start):
        """
        Start txlb with C{start(path of site.tac)} (answering the process
        and its address) on a .tac with one host, open a stream, add a host
        to the file and send SIGHUP: the new host serves and the stream
        stays open. Answers the process, the address and the stream.
        """
        e, n = startBackend(self, echo, "E"), startBackend(self, name, "N")
        site = self.write("site.tac", tac(("e", e.address, "")))
        process, address = start(site)
        stream = socket.create_connection(address, timeout=10)
        self.addCleanup(stream.close)
        stream.sendall(b"before")
        self.assertEqual(stream.recv(100), b"before")
        self.write("site.tac", tac(("e", e.address, ""), ("n", n.address, "")))
        process.popen.send_signal(signal.SIGHUP)
        process.waitFor(r"SIGHUP: applied a new configuration \(1 changes\)")
        stream.sendall(b"after")
        self.assertEqual(stream.recv(100), b"after")
        self.assertIn(b"N\n", {request(address) for _ in range(4)})
        return process, address, stream

    def test_sighup(self):
        """
        SIGHUP re-reads the .tac and adds its new host while a connection
        made before stays open across it on the same listener; a broken
        file then logs one sentence with file and line and changes nothing.
        """
        process, address, stream = self.reloadAddingHost(lambda site: self.start(["--config", site])[:2])
        self.assertEqual(len(process.waitFor(r"service web listening on")), 1)
        before = xmlrpc.client.ServerProxy(adminURL(process)).getConfig()
        self.write("site.tac", "from txlb.config import Balancer\ndef (:\n")
        process.popen.send_signal(signal.SIGHUP)
        process.waitFor(r"reload failed, nothing changed: site.tac, line 2: invalid syntax")
        self.assertEqual(xmlrpc.client.ServerProxy(adminURL(process)).getConfig(), before)
        stream.sendall(b"still")
        self.assertEqual(stream.recv(100), b"still")


    def test_sighupUnderTwistdY(self):
        """
        A balancer run as C{twistd -ny site.tac} reloads that file on
        SIGHUP as well: its new host serves, the open connection stays.
        """
        self.reloadAddingHost(lambda site: startTwistd(self, ["-y", site], service="web"))


class StateTests(ReconfigureCase):
    def test_hostSurvivesRestart(self):
        """
        With --state, a host added through the admin is in the state file
        at once and still there after a restart, which logs that the state
        file won over the flags.
        """
        a, b = startBackend(self, name, "A"), startBackend(self, name, "B")
        state = os.path.join(self.directory, "state.json")
        args = ["--listen", "tcp:0:interface=127.0.0.1", "--admin", "tcp:0:interface=127.0.0.1",
                "--backend", f"a={a.address}", "--state", state]
        process, address, url = self.start(args, service="default")
        self.assertFalse(os.path.exists(state))
        xmlrpc.client.ServerProxy(url).addHost("default", "default", "b", b.address, {"maxconn": 5})
        with open(state) as f:
            stored = json.load(f)
        self.assertEqual(stored["balancer"]["services"]["default"]["groups"]["default"]["hosts"]["b"]["maxconn"], 5)
        process.stop()
        again, address, url = self.start(args, service="default")
        again.waitFor(r"starting from the state file .*state.json, not from the flags \(1 differences\)")
        hosts = xmlrpc.client.ServerProxy(url).getConfig()["services"]["default"]["groups"]["default"]["hosts"]
        self.assertEqual(list(hosts), ["a", "b"])
        self.assertEqual(hosts["b"]["maxconn"], 5)
        self.assertEqual({request(address) for _ in range(4)}, {b"A\n", b"B\n"})
