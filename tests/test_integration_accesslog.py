"""
The access log and the operator's signals on real twistd processes: the
records of relayed, reset, failed and refused connections, both formats,
logrotate's rename then C{SIGUSR1} (twistd's log and the access log),
C{SIGUSR2} and C{SIGHUP} surviving, and C{--workers 2} writing one file.
"""

import json
import os
import re
import shutil
import signal
import socket
import struct
import tempfile
import time
import xmlrpc.client

from twisted.trial.unittest import SynchronousTestCase

from tests.support import TWISTD, Process, Twistd, deadAddress, echo, request, startBackend, temporaryFile
from tests.test_integration_admin import adminURL
from txlb.accesslog import KEYS

LISTEN = ["--listen", "tcp:0:interface=127.0.0.1"]
TEXT = re.compile(
    r"^127\.0\.0\.1:\d+ \[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\] 127\.0\.0\.1:\d+ "
    r"default/default/(\S+) (\d+) ([\d.]+|-1)/[\d.]+ (\d+)/(\d+) ([a-z-]+)$"
)


def waitFor(measure, goal, timeout=20.0):
    """
    Poll C{measure()} until C{goal} holds of it; return the last value.

    @raise AssertionError: when time runs out first.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = measure()
        if goal(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out; last value: {value!r}")
        time.sleep(0.05)


def lines(path):
    """
    The lines of the file at C{path} (none when it does not exist).
    """
    try:
        with open(path) as f:
            return f.read().splitlines()
    except FileNotFoundError:
        return []


def records(path, count, timeout=20.0):
    """
    Wait until the access log at C{path} holds C{count} lines; return them
    parsed as JSON.
    """
    found = waitFor(lambda: lines(path), lambda found: len(found) >= count, timeout)
    return [json.loads(line) for line in found]


def reset(address, payload=b"x"):
    """
    Connect, send C{payload}, wait for its echo, then reset the connection.
    """
    s = socket.create_connection(address, timeout=10)
    s.sendall(payload)
    s.recv(100)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def closedByTxlb(address):
    """
    Connect and read until txlb closes the connection (it has no host to
    give it); what was read.
    """
    with socket.create_connection(address, timeout=10) as s:
        try:
            return s.recv(100)
        except ConnectionResetError:
            return b""


def openedAt(pid, path):
    """
    True when process C{pid} has the file now at C{path} open.
    """
    directory = f"/proc/{pid}/fd"
    for fd in os.listdir(directory):
        try:
            if os.readlink(os.path.join(directory, fd)) == path:
                return True
        except OSError:
            continue
    return False


class Directory:
    def makeDirectory(self):
        directory = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, directory, True)
        return directory


TAC = """
from txlb.config import AccessLog, Balancer, Group, HealthCheck, Host, Service
from txlb.tac import application

listen = ["tcp:0:interface=127.0.0.1"]
application = application(Balancer(
    services=[
        Service("relay", listen=listen, groups=[Group("g", hosts=[Host("echo", {echo!r})])]),
        Service("dead", listen=listen, groups=[Group("g", hosts=[Host("gone", {dead!r})])]),
        Service("down", listen=listen, groups=[Group("g", hosts=[Host("gone", {dead!r})],
                check=HealthCheck("tcp", interval=0.2, timeout=0.2, fall=1))]),
    ],
    accessLog=AccessLog({path!r}, format="json"),
))
"""


class RecordTests(SynchronousTestCase, Directory):
    def test_everyEnding(self):
        """
        A .tac's AccessLog gets one JSON record per connection with every
        key: a relayed one (its host, bytes both ways), a reset one
        (C{client-reset}), one whose host refused (C{connect-failed}, 2
        retries) and one with no host up (C{no-host}, no host).
        """
        backend = startBackend(self, echo)
        path = os.path.join(self.makeDirectory(), "access.log")
        tac = temporaryFile(self, TAC.format(echo=backend.address, dead=deadAddress(), path=path))
        process = Twistd(["txlb", "--config", tac])
        self.addCleanup(process.stop)
        relay, dead, down = (process.address(name) for name in ("relay", "dead", "down"))
        self.assertEqual(request(relay, b"hello"), b"hello")
        reset(relay, b"abc")
        self.assertEqual(closedByTxlb(dead), b"")
        process.waitFor(r"host gone .* up -> down")
        self.assertEqual(closedByTxlb(down), b"")
        found = records(path, 4)
        for record in found:
            self.assertEqual(list(record)[: len(KEYS)], list(KEYS))
        relayed, resetOne, failed, refused = found
        self.assertEqual(
            {k: relayed[k] for k in ("service", "group", "host", "retries", "bytes_in", "bytes_out")},
            {"service": "relay", "group": "g", "host": "echo", "retries": 0, "bytes_in": 5, "bytes_out": 5},
        )
        self.assertIn(relayed["termination"], ("client-closed", "backend-closed"))
        self.assertEqual(relayed["client"].split(":")[0], "127.0.0.1")
        self.assertEqual(relayed["listener"], "%s:%d" % relay)
        self.assertIsInstance(relayed["connect_ms"], float)
        self.assertRegex(relayed["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        self.assertEqual((resetOne["termination"], resetOne["bytes_out"]), ("client-reset", 3))
        self.assertEqual(
            (failed["termination"], failed["host"], failed["retries"], failed["connect_ms"]),
            ("connect-failed", "gone", 2, None),
        )
        self.assertEqual((refused["termination"], refused["host"], refused["retries"]), ("no-host", None, 0))
        self.assertIn(process.stop(), (0, -signal.SIGTERM))


class BulkTests(SynchronousTestCase, Directory):
    def test_bytesCountedOnBothPaths(self):
        """
        4 MiB echoed through txlb is counted in full both ways, whether the
        bytes went through Twisted or through the kernel's splice path.
        """
        backend = startBackend(self, echo)
        directory = self.makeDirectory()
        size = 4 * 2**20
        for flags in ([], ["--no-splice"]):
            path = os.path.join(directory, "access-%d.log" % len(flags))
            process = Twistd(["txlb", *LISTEN, "--backend", backend.address, "--access-log", path,
                              "--access-log-format", "json", *flags])
            self.addCleanup(process.stop)
            self.assertEqual(len(request(process.address(), b"z" * size, timeout=30)), size)
            [record] = records(path, 1)
            self.assertEqual((record["bytes_in"], record["bytes_out"]), (size, size), flags)


class LogFormatTests(SynchronousTestCase, Directory):
    def test_jsonLog(self):
        """
        With C{--log-format json}, every line of txlb's own log file is one
        JSON object: twistd's lines, txlb's, and the access log records
        sent there with C{--access-log -}.
        """
        backend = startBackend(self, echo)
        log = os.path.join(self.makeDirectory(), "txlb.log")
        process = Process(
            TWISTD + ["-n", "--pidfile=", f"--logfile={log}", "txlb", *LISTEN, "--backend", backend.address,
                      "--log-format", "json", "--access-log", "-"]
        )
        self.addCleanup(process.stop)

        def events():
            return [json.loads(line) for line in lines(log)]

        found = waitFor(events, lambda found: [e for e in found if e.get("log_format", "").startswith("service {service} listening")])
        [listening] = [e for e in found if e.get("log_format", "").startswith("service {service} listening")]
        host, _, port = listening["address"].rpartition(":")
        self.assertEqual(request((host, int(port)), b"hi"), b"hi")
        found = waitFor(events, lambda found: [e for e in found if "access" in e])
        [access] = [e["access"] for e in found if "access" in e]
        self.assertEqual((access["bytes_in"], access["host"]), (2, backend.address))
        self.assertTrue(any("twistd" in e.get("log_format", "") for e in found))


class SignalTests(SynchronousTestCase, Directory):
    def test_rotateAndSignals(self):
        """
        With C{--access-log PATH} (text) and twistd logging to a file:
        SIGUSR2 logs a line, SIGHUP reloads the flags, and txlb keeps
        serving; after both
        files are renamed, SIGUSR1 makes txlb write to new files at the
        same paths (the old ones keep what came before); SIGTERM then stops
        it cleanly, removing its pid file.
        """
        backend = startBackend(self, echo)
        directory = self.makeDirectory()
        log, access, pid = (os.path.join(directory, n) for n in ("txlb.log", "access.log", "txlb.pid"))
        process = Process(
            TWISTD + ["-n", f"--pidfile={pid}", f"--logfile={log}", "txlb", *LISTEN,
                      "--backend", backend.address, "--access-log", access]
        )
        self.addCleanup(process.stop)
        listening = waitFor(
            lambda: [m for m in map(re.compile(r"listening on (\S+):(\d+) ").search, lines(log)) if m],
            bool,
        )
        address = (listening[0].group(1), int(listening[0].group(2)))
        self.assertEqual(request(address, b"one"), b"one")
        [line] = waitFor(lambda: lines(access), bool)
        match = TEXT.match(line)
        self.assertIsNotNone(match, line)
        self.assertEqual(match.group(1, 2, 4, 5), (backend.address, "0", "3", "3"))
        self.assertIn(match.group(6), ("client-closed", "backend-closed"))

        for signum, said in ((signal.SIGUSR2, "SIGUSR2 received"), (signal.SIGHUP, "SIGHUP: reloading the flags")):
            process.popen.send_signal(signum)
            waitFor(lambda: [l for l in lines(log) if said in l], bool)
        self.assertIsNone(process.popen.poll())
        self.assertEqual(request(address, b"two"), b"two")
        waitFor(lambda: lines(access), lambda found: len(found) == 2)

        os.rename(log, log + ".1")
        os.rename(access, access + ".1")
        process.popen.send_signal(signal.SIGUSR1)
        waitFor(lambda: [l for l in lines(log) if "reopened the access log" in l], bool)
        self.assertEqual(request(address, b"three"), b"three")
        [line] = waitFor(lambda: lines(access), bool)
        self.assertIn(" 5/5 ", line)
        self.assertEqual(len(lines(access + ".1")), 2)
        self.assertFalse([l for l in lines(log) if "Server Shut Down" in l])
        self.assertIn(process.stop(), (0, -signal.SIGTERM))
        self.assertFalse(os.path.exists(pid))
        self.assertTrue([l for l in lines(log) if "Server Shut Down" in l])


class WorkersTests(SynchronousTestCase, Directory):
    def test_oneFileForTwoWorkers(self):
        """
        With C{--workers 2} both workers (each having accepted some of the
        40 clients) append whole JSON lines to the one access log; SIGUSR1
        to worker 0 makes both reopen it after a rename.
        """
        backend = startBackend(self, echo)
        access = os.path.join(self.makeDirectory(), "access.log")
        process = Twistd(
            ["txlb", "--workers", "2", *LISTEN, "--backend", backend.address,
             "--admin", "tcp:0:interface=127.0.0.1", "--access-log", access, "--access-log-format", "json"]
        )
        self.addCleanup(process.stop)
        address = process.address()
        worker = int(process.waitFor(r"worker 1 \(pid (\d+)\) is serving")[0].group(1))
        pids = (process.popen.pid, worker)
        for pid in pids:
            waitFor(lambda: openedAt(pid, access), bool)
        for i in range(40):
            self.assertEqual(request(address, b"%d" % i), b"%d" % i)
        found = records(access, 40)
        self.assertEqual(sorted(int(r["bytes_in"]) for r in found), sorted(len(b"%d" % i) for i in range(40)))
        rpc = xmlrpc.client.ServerProxy(adminURL(process))
        accepted = waitFor(lambda: [w["accepted"] for w in rpc.getWorkers()], lambda a: sum(a) == 40)
        self.assertTrue(all(accepted), accepted)

        os.rename(access, access + ".1")
        process.popen.send_signal(signal.SIGUSR1)
        for pid in pids:
            waitFor(lambda: openedAt(pid, access), bool)
        for i in range(10):
            request(address, b"again")
        self.assertEqual(len(records(access, 10)), 10)
        self.assertEqual(len(lines(access + ".1")), 40)


YTAC = """
from txlb.config import AccessLog, Balancer, Group, Host, Service
from txlb.tac import application

application = application(Balancer(
    services=[Service("web", listen=["tcp:0:interface=127.0.0.1"], groups=[Group("g", hosts=[Host("a", {echo!r})])])],
    accessLog=AccessLog({path!r}),
))
"""


class TwistdYTests(SynchronousTestCase, Directory):
    def test_reopenNotRotate(self):
        """
        Under C{twistd -ny FILE.tac --logfile FILE}, SIGUSR1 reopens
        twistd's log file at its path instead of renaming it to C{.1}
        (twistd's own handler), and SIGHUP (a reload of the .tac) and
        SIGUSR2 each log a line and do not stop txlb.
        """
        backend = startBackend(self, echo)
        directory = self.makeDirectory()
        log, access = os.path.join(directory, "txlb.log"), os.path.join(directory, "access.log")
        tac = temporaryFile(self, YTAC.format(echo=backend.address, path=access))
        process = Process(TWISTD + ["-ny", tac, "--pidfile=", f"--logfile={log}"])
        self.addCleanup(process.stop)
        waitFor(lambda: [l for l in lines(log) if "listening on" in l], bool)
        process.popen.send_signal(signal.SIGUSR1)
        waitFor(lambda: [l for l in lines(log) if "reopened the log file" in l], bool)
        self.assertFalse(os.path.exists(log + ".1"))
        os.rename(log, log + ".old")
        for signum in (signal.SIGHUP, signal.SIGUSR2, signal.SIGUSR1):
            process.popen.send_signal(signum)
        waitFor(lambda: [l for l in lines(log) if "reopened the log file" in l], bool)
        for said in ("SIGHUP: reloading", "SIGUSR2 received"):
            waitFor(lambda: [l for l in lines(log + ".old") + lines(log) if said in l], bool)
        self.assertIsNone(process.popen.poll())
        self.assertIn(process.stop(), (0, -signal.SIGTERM))


class ProxyHeaderTests(SynchronousTestCase, Directory):
    def test_proxyHeaderRecords(self):
        """
        On a C{haproxy:} listener the record names the client the PROXY
        header gave, and a connection closed for a bad header gets a record
        too (C{proxy-header}, no host, no bytes).
        """
        backend = startBackend(self, echo)
        path = os.path.join(self.makeDirectory(), "access.log")
        process = Twistd(["txlb", "--listen", "haproxy:tcp:0:interface=127.0.0.1", "--backend", backend.address,
                          "--access-log", path, "--access-log-format", "json"])
        self.addCleanup(process.stop)
        address = process.address()
        header = b"PROXY TCP4 192.0.2.7 127.0.0.1 50312 80\r\n"
        self.assertEqual(request(address, header + b"hello"), b"hello")
        self.assertEqual(request(address, b"GARBAGE\r\n\r\n"), b"")
        relayed, refused = records(path, 2)
        self.assertEqual((relayed["client"], relayed["bytes_in"]), ("192.0.2.7:50312", 5))
        self.assertEqual(
            (refused["termination"], refused["host"], refused["bytes_in"], refused["listener"]),
            ("proxy-header", None, 0, "%s:%d" % address),
        )
