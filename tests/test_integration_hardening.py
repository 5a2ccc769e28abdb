"""
What a stranger on the network can do to a real C{twistd txlb}, and what
it may not achieve: starve the relay through the admin, fill the disk or
memory before authenticating, replay heartbeats across groups, guess
passwords fast or learn user names, keep a removed user's access, or use
secret files anyone may change.
"""

import os
import resource
import shutil
import signal
import socket
import statistics
import tempfile
import threading
import time
import urllib.request
import xmlrpc.client

from twisted.trial.unittest import SkipTest, SynchronousTestCase

from tests.support import TWISTD, TXLB, Process, Twistd, ask, name, request, startBackend, startTwistd
from txlb.admin import UserFile, hashPassword
from txlb.health._wire import Beat, destination, encode

LISTEN = ["--listen", "tcp:0:interface=127.0.0.1"]
ADMIN = ["--admin", "tcp:0:interface=127.0.0.1"]
TXLBCTL = [TXLB[0], "-c", "import sys; from txlb.admin.ctl import main; sys.exit(main())"]
KEY = b"0123456789abcdef0123456789abcdef"


def directory(testCase):
    """
    A private temporary directory removed at C{testCase}'s cleanup.
    """
    path = tempfile.mkdtemp(prefix="txlb-hardening-")
    testCase.addCleanup(shutil.rmtree, path, True)
    return path


def usersFile(testCase, users, mode=0o600):
    """
    A users file holding C{users} (name -> (role, password)).
    """
    path = os.path.join(directory(testCase), "users")
    UserFile(path).save({n: (role, hashPassword(pw)) for n, (role, pw) in users.items()})
    os.chmod(path, mode)
    return path


def twistdLimited(testCase, args, nofile):
    """
    C{twistd -n txlb ARGS} with its descriptor limit set to C{nofile}
    (soft and hard); stopped at cleanup.
    """
    argv = list(TWISTD) + ["-n", "--pidfile=", "--logfile=-"] + list(args)
    argv[2] = "import resource; resource.setrlimit(resource.RLIMIT_NOFILE, (%d, %d)); " % (nofile, nofile) + argv[2]
    process = Twistd.__new__(Twistd)
    Process.__init__(process, argv)
    testCase.addCleanup(process.stop)
    return process


def openFiles(pid):
    """
    The regular files process C{pid} has open (deleted ones included).
    """
    found = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("/") and not target.startswith(("/dev/", "/proc/")):
            found.append(target)
    return found


class IdleAdminTests(SynchronousTestCase):
    def test_idleConnectionsDoNotStarveRelay(self):
        """
        2,000 idle connections to the admin of a balancer limited to 1,024
        descriptors: the admin keeps no more than its cap, all 30 relayed
        clients are served meanwhile, txlbctl status answers, and the admin
        logs that it refused connections.
        """
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard != resource.RLIM_INFINITY and hard < 2300:
            raise SkipTest(f"needs 2,300 descriptors for the idle connections; the hard limit is {hard}")
        if soft != resource.RLIM_INFINITY and soft < 2300:
            resource.setrlimit(resource.RLIMIT_NOFILE, (2300, hard))
            self.addCleanup(resource.setrlimit, resource.RLIMIT_NOFILE, (soft, hard))
        backend = startBackend(self, name, "A")
        process = twistdLimited(self, ["txlb", *LISTEN, *ADMIN, "--backend", backend.address], 1024)
        address = process.address()
        admin = process.address("admin")
        idle = []
        self.addCleanup(lambda: [s.close() for s in idle])
        for _ in range(2000):
            try:
                idle.append(socket.create_connection(admin, timeout=5))
            except OSError:
                pass
        held = len(os.listdir(f"/proc/{process.popen.pid}/fd"))
        self.assertLess(held, 200, "the admin kept more connections than its cap")
        answers = []

        def client():
            answers.append(request(address, b"", timeout=20))

        clients = [threading.Thread(target=client) for _ in range(30)]
        for t in clients:
            t.start()
        for t in clients:
            t.join(30)
        self.assertEqual(answers, [b"A\n"] * 30)
        ctl = Process(TXLBCTL + ["--url", "http://%s:%d/RPC2" % admin, "status"])
        self.addCleanup(ctl.stop)
        self.assertEqual(ctl.wait(30), 0, ctl.output)
        self.assertIn("default", ctl.output)
        process.waitFor(r"admin: refused 127\.0\.0\.1: (too many admin connections open|closed to make room)")
        self.assertNotIn("Too many open files", process.output)
        for s in idle:
            s.close()
        del idle[:]
        with urllib.request.urlopen("http://%s:%d/metrics" % admin, timeout=10) as response:
            metrics = response.read().decode()
        self.assertRegex(metrics, r'txlb_admin_refused_total\{reason="[a-z -]+"\} [1-9]')


class _AdminWithUsers:
    """
    A balancer with one backend and an admin whose users file holds root.
    """

    def setUp(self):
        backend = startBackend(self, name, "A")
        self.users = usersFile(self, {"root": ("admin", "right")})
        self.process, _ = startTwistd(
            self, ["txlb", *LISTEN, *ADMIN, "--admin-users", self.users, "--backend", backend.address]
        )
        self.admin = self.process.address("admin")


class BodyTests(_AdminWithUsers, SynchronousTestCase):

    def test_hugeContentLength(self):
        """
        An unauthenticated POST announcing 2 GiB is answered 413 within a
        second while its body is still being sent, and txlb opens no file
        for it.
        """
        before = openFiles(self.process.popen.pid)
        s = socket.create_connection(self.admin, timeout=10)
        self.addCleanup(s.close)
        started = time.monotonic()
        s.sendall(b"POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\n"
                  b"Content-Length: 2147483648\r\n\r\n")
        sent = 0
        try:
            for _ in range(64):
                s.sendall(b"\0" * 65536)
                sent += 65536
        except OSError:
            pass
        answer = s.recv(4096)
        self.assertLess(time.monotonic() - started, 1.0)
        self.assertTrue(answer.startswith(b"HTTP/1.1 413 "), answer)
        self.assertEqual(openFiles(self.process.popen.pid), before)

    def test_unauthenticatedBodyNotRead(self):
        """
        Without credentials, a request with a body under the limit is
        answered 401 at once, before its body arrives.
        """
        s = socket.create_connection(self.admin, timeout=10)
        self.addCleanup(s.close)
        started = time.monotonic()
        s.sendall(b"POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n")
        answer = s.recv(4096)
        self.assertLess(time.monotonic() - started, 1.0)
        self.assertTrue(answer.startswith(b"HTTP/1.1 401 "), answer)

    def test_accessLogOff(self):
        """
        By default the admin writes no access log line per request.
        """
        for _ in range(5):
            self.assertEqual(ask(self.admin, user="root", password="right")[0], 200)
        self.assertNotIn('"GET / HTTP/1.1" 200', self.process.output)


class AccessLogTests(SynchronousTestCase):
    def test_accessLogOn(self):
        """
        With --admin-access-log, each request logs a line, at most 20 a
        second.
        """
        backend = startBackend(self, name, "A")
        process, _ = startTwistd(self, ["txlb", *LISTEN, *ADMIN, "--admin-access-log", "--backend", backend.address])
        admin = process.address("admin")
        for _ in range(60):
            ask(admin)
        process.waitFor(r'"GET / HTTP/1.1" 200')
        lines = [line for line in process.lines if '"GET / HTTP/1.1" 200' in line]
        self.assertLess(len(lines), 60)


class GuessingTests(_AdminWithUsers, SynchronousTestCase):

    def test_namesDoNotShow(self):
        """
        An unknown user and a known user with a wrong password are answered
        401 after about the same time (within a factor of two).
        """
        unknown, wrong = [], []
        for i in range(5):
            status, _, seconds = ask(self.admin, user="nobody", password="x", source=f"127.0.1.{i + 1}")
            self.assertEqual(status, 401)
            unknown.append(seconds)
            status, _, seconds = ask(self.admin, user="root", password="x", source=f"127.0.2.{i + 1}")
            self.assertEqual(status, 401)
            wrong.append(seconds)
        a, b = statistics.median(unknown), statistics.median(wrong)
        self.assertLess(max(a, b) / min(a, b), 2.0, (unknown, wrong))

    def test_guessingSlowed(self):
        """
        After three failures a source's answers come later and later, after
        ten it gets 429 even with the right password, logged once; other
        sources are not affected.
        """
        times = []
        for i in range(10):
            status, _, seconds = ask(self.admin, user="root", password=f"guess{i}", source="127.0.3.1")
            self.assertEqual(status, 401)
            times.append(seconds)
        self.assertGreater(sum(times[3:]), 10.0, times)
        status, headers, _ = ask(self.admin, user="root", password="right", source="127.0.3.1")
        self.assertEqual(status, 429)
        self.assertIn("Retry-After", headers)
        self.assertEqual(ask(self.admin, user="root", password="right", source="127.0.3.2")[0], 200)
        logged = [line for line in self.process.lines if "failed logins from 127.0.3.1" in line]
        self.assertEqual(len(logged), 1)


class UsersFileTests(SynchronousTestCase):
    def test_removedUserRefused(self):
        """
        A user removed from the file while a malformed line is added loses
        access within about a second; the others keep theirs; the bad line
        is logged with its number. SIGHUP re-reads the file at once (and
        does not stop txlb).
        """
        backend = startBackend(self, name, "A")
        users = usersFile(self, {"root": ("admin", "right"), "bob": ("readonly", "bob")})
        process, _ = startTwistd(self, ["txlb", *LISTEN, *ADMIN, "--admin-users", users, "--backend", backend.address])
        admin = process.address("admin")
        self.assertEqual(ask(admin, user="bob", password="bob")[0], 200)
        with open(users) as f:
            lines = [line for line in f if not line.startswith("bob:")]
        with open(users, "w") as f:
            f.writelines(lines + ["this line is wrong\n"])
        process.waitFor(r"line 3 skipped", timeout=10)
        self.assertEqual(ask(admin, user="bob", password="bob")[0], 401)
        self.assertEqual(ask(admin, user="root", password="right")[0], 200)
        UserFile(users).save({"carol": ("admin", hashPassword("c"))})
        process.popen.send_signal(signal.SIGHUP)
        process.waitFor(r"re-read: 1 users", timeout=10)
        self.assertEqual(ask(admin, user="carol", password="c")[0], 200)
        self.assertIsNone(process.popen.poll())


class PermissionTests(SynchronousTestCase):
    def test_worldReadableWarned(self):
        """
        A users file and a heartbeat key file every user may read are used,
        with a warning naming each.
        """
        users = usersFile(self, {"root": ("admin", "right")}, mode=0o644)
        key = os.path.join(directory(self), "key")
        with open(key, "wb") as f:
            f.write(KEY)
        os.chmod(key, 0o644)
        process, _ = startTwistd(self, [
            "txlb", *LISTEN, *ADMIN, "--admin-users", users, "--backend", "127.0.0.1:1",
            "--heartbeat", "udp:0:interface=127.0.0.1", "--heartbeat-key-file", key,
        ])
        process.waitFor(r"the admin users file %s is readable by every user" % users)
        process.waitFor(r"the heartbeat key file %s is readable by every user" % key)

    def test_worldWritableRefused(self):
        """
        A users file or heartbeat key file every user may write stops txlb
        from starting, with one sentence and no traceback.
        """
        users = usersFile(self, {"root": ("admin", "right")}, mode=0o666)
        process = Twistd(["txlb", *LISTEN, *ADMIN, "--admin-users", users, "--backend", "127.0.0.1:1"])
        self.addCleanup(process.stop)
        self.assertNotEqual(process.wait(), 0)
        self.assertIn("is writable by every user", process.output)
        self.assertNotIn("Traceback", process.output)
        key = os.path.join(directory(self), "key")
        with open(key, "wb") as f:
            f.write(KEY)
        os.chmod(key, 0o666)
        process = Twistd(["txlb", *LISTEN, "--heartbeat", "udp:0:interface=127.0.0.1", "--heartbeat-key-file", key])
        self.addCleanup(process.stop)
        self.assertNotEqual(process.wait(), 0)
        self.assertIn("is writable by every user", process.output)
        self.assertNotIn("Traceback", process.output)


TAC = """
from txlb.config import Admin, Balancer, Group, Heartbeat, Service
from txlb.tac import application

application = application(Balancer(
    services=[
        Service(name, listen=["tcp:0:interface=127.0.0.1"], groups=[
            Group("g", heartbeat=Heartbeat("udp:0:interface=127.0.0.1", {key!r}, register=True)),
        ])
        for name in ("blue", "green")
    ],
    admin=Admin(["tcp:0:interface=127.0.0.1"]),
))
"""


class HeartbeatReplayTests(SynchronousTestCase):
    def start(self, *flags):
        key = os.path.join(directory(self), "key")
        with open(key, "wb") as f:
            f.write(KEY)
        os.chmod(key, 0o600)
        tac = os.path.join(directory(self), "groups.tac")
        with open(tac, "w") as f:
            f.write(TAC.format(key=key))
        process, _ = startTwistd(self, ["txlb", "--config", tac, *flags], service="blue")
        ports = {}
        for match in process.waitFor(r"service (\w+) group g: heartbeats on udp 127\.0\.0\.1:(\d+)|"
                                     r"group g: heartbeats on udp 127\.0\.0\.1:(\d+)", count=2):
            ports[len(ports)] = int(match.group(3) or match.group(2))
        return process, ports

    def test_crossGroupReplay(self):
        """
        Two groups share a key and let hosts register: a beat sent to the
        first joins it; the same datagram re-sent to the second is dropped
        as misdirected and re-sent to the first as replayed. Neither group
        gains a host from the copies.
        """
        backend = startBackend(self, name, "A")
        process, ports = self.start()
        blue, green = ports[0], ports[1]
        datagram = encode(Beat("a", backend.address, 1, 0.0, "up", time.time(), "c" * 24,
                               destination("127.0.0.1", blue)), KEY)
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(udp.close)
        udp.sendto(datagram, ("127.0.0.1", blue))
        process.waitFor(r"host a \(%s\) joined by heartbeat" % backend.address)
        udp.sendto(datagram, ("127.0.0.1", green))
        process.waitFor(r"dropped heartbeat from 127\.0\.0\.1:\d+: misdirected")
        udp.sendto(datagram, ("127.0.0.1", blue))
        process.waitFor(r"dropped heartbeat from 127\.0\.0\.1:\d+: replayed")
        admin = process.address("admin")
        status = xmlrpc.client.ServerProxy("http://%s:%d/RPC2" % admin).getStatus()
        joined = {service: set(status[service]["groups"]["g"]["hosts"]) for service in ("blue", "green")}
        self.assertEqual(joined, {"blue": {"a"}, "green": set()})
        self.assertEqual(len([line for line in process.lines if "joined by heartbeat" in line]), 1)


class WorkerReplayTests(SynchronousTestCase):
    def test_acceptedOnceWithWorkers(self):
        """
        With --workers 2, worker 0 hears a beat and passes it on once;
        the same datagram sent again is dropped by worker 0 as replayed and
        never reaches worker 1.
        """
        from tests.test_integration_workers import serving

        backend = startBackend(self, name, "A")
        key = os.path.join(directory(self), "key")
        with open(key, "wb") as f:
            f.write(KEY)
        os.chmod(key, 0o600)
        process, address = startTwistd(self, [
            "txlb", "--workers", "2", *LISTEN,
            "--heartbeat", "udp:0:interface=127.0.0.1", "--heartbeat-key-file", key,
        ])
        serving(process)
        port = int(process.waitFor(r"\] group default: heartbeats on udp 127\.0\.0\.1:(\d+)")[0].group(1))
        datagram = encode(Beat("a", backend.address, 1, 0.0, "up", time.time(), "w" * 24,
                               destination("127.0.0.1", port)), KEY)
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(udp.close)
        udp.sendto(datagram, ("127.0.0.1", port))
        process.waitFor(r"worker 1: .*host a \(%s\) joined by heartbeat" % backend.address)
        udp.sendto(datagram, ("127.0.0.1", port))
        process.waitFor(r"dropped heartbeat from 127\.0\.0\.1:\d+: replayed")
        self.assertEqual({request(address) for _ in range(10)}, {b"A\n"})
        worker1 = [line for line in process.lines if "worker 1:" in line]
        self.assertEqual(len([line for line in worker1 if "joined by heartbeat" in line]), 1)
        self.assertEqual([line for line in worker1 if "dropped heartbeat" in line], [])
