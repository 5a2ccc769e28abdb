"""
Hitless handover (C{--handover PATH}) as operators run it: real twistd
processes replacing each other on the same sockets under load, and a
second txlb refused on a held address.
"""

import os
import re
import shutil
import signal
import socket
import ssl
import tempfile
import threading
import time
import xmlrpc.client

from twisted.trial.unittest import SynchronousTestCase

from tests.support import TWISTD, Process, Twistd, name, request, selfSigned, startBackend, temporaryFile
from tests.test_health_wire import keyFile

SERVING = "handover: serving handovers on"
LISTEN = ["--listen", "tcp:0:interface=127.0.0.1"]
ADMIN = ["--admin", "tcp:0:interface=127.0.0.1"]


def adminAddress(process):
    """
    The C{(host, port)} the admin of C{process} listens on.
    """
    return process.address("admin")


class Load:
    """
    C{threads} clients, each connecting, exchanging a message and closing,
    one connection at a time (bounded load), until stopped; counts the
    exchanges and the failures (with their reasons).
    """

    def __init__(self, address, threads=3, pause=0.005):
        self.address = address
        self.pause = pause
        self.done = 0
        self.failures = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(threads)]

    def start(self):
        for thread in self._threads:
            thread.start()

    def _run(self, index):
        n = 0
        while not self._stop.is_set():
            n += 1
            payload = b"client %d message %d\n" % (index, n)
            try:
                answer = request(self.address, payload, timeout=10.0)
                if answer != payload:
                    raise AssertionError(f"echo {answer!r} for {payload!r}")
            except Exception as e:
                with self._lock:
                    self.failures.append(f"{type(e).__name__}: {e}")
            else:
                with self._lock:
                    self.done += 1
            time.sleep(self.pause)

    def stop(self):
        self._stop.set()
        for thread in self._threads:
            thread.join(30)


class Stream:
    """
    One long-lived connection echoing numbered chunks, checked as it goes.
    """

    def __init__(self, address):
        self.sock = socket.create_connection(address, timeout=10.0)
        self.sent = 0

    def exchange(self):
        chunk = b"chunk %06d " % self.sent + b"x" * 1000 + b"\n"
        self.sent += 1
        self.sock.sendall(chunk)
        got = b""
        while len(got) < len(chunk):
            data = self.sock.recv(len(chunk) - len(got))
            if not data:
                raise AssertionError(f"the stream ended after {self.sent - 1} chunks")
            got += data
        if got != chunk:
            raise AssertionError(f"chunk {self.sent - 1} came back as {got[:20]!r}...")

    def finish(self):
        self.sock.shutdown(socket.SHUT_WR)
        rest = self.sock.recv(1)
        self.sock.close()
        return rest


class HandoverTests(SynchronousTestCase):
    """
    Real processes handing their sockets over through the handover socket.
    """

    def setUp(self):
        self.directory = tempfile.mkdtemp(prefix="txlb-handover-")
        self.addCleanup(shutil.rmtree, self.directory, True)
        self.path = os.path.join(self.directory, "handover.sock")
        self.processes = []
        self.addCleanup(self._stopAll)

    def _stopAll(self):
        for process in reversed(self.processes):
            process.stop()

    def start(self, args):
        process = Twistd(args)
        self.processes.append(process)
        process.waitFor(SERVING)
        return process

    def test_twentyHandoversUnderLoad(self):
        """
        Twenty handovers in a row, each started with the same command line
        as the first process, under a steady load of short connections,
        fail no connection; a stream opened before the first handover runs
        on through the first process until it ends, intact, and that
        process then exits; the admin moves with the relay listener.
        """
        backend = startBackend(self)
        args = ["txlb", *LISTEN, *ADMIN, "--backend", backend.address, "--handover", self.path,
                "--drain-timeout", "120", "--no-splice"]
        first = self.start(args)
        address = first.address()
        admin = adminAddress(first)
        stream = Stream(address)
        stream.exchange()
        load = Load(address)
        load.start()
        try:
            old = first
            for i in range(20):
                new = self.start(args)
                self.assertEqual(new.address(), address)
                self.assertEqual(adminAddress(new), admin)
                stream.exchange()
                if old is not first:
                    self.assertEqual(old.wait(30), 0)
                old = new
            started = load.done
            deadline = time.monotonic() + 10
            while load.done < started + 20 and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            load.stop()
        self.assertEqual(load.failures, [])
        self.assertGreater(load.done, 100)
        self.assertEqual(first.popen.poll(), None)
        stream.exchange()
        self.assertEqual(stream.finish(), b"")
        self.assertEqual(first.wait(30), 0)
        proxy = xmlrpc.client.ServerProxy("http://%s:%d/RPC2" % admin)
        self.assertEqual(proxy.listServices(), ["default"])

    def test_adminChangesMove(self):
        """
        Hosts added and removed through the admin before a handover are so
        in the new process too (the old one hands over the description it
        runs, which wins over the new one's flags), and again after a
        second handover.
        """
        backend = startBackend(self)
        args = ["txlb", *LISTEN, *ADMIN, "--backend", "127.0.0.1:1", "--handover", self.path]
        first = self.start(args)
        proxy = xmlrpc.client.ServerProxy("http://%s:%d/RPC2" % adminAddress(first))
        self.assertTrue(proxy.addHost("default", "default", "live", backend.address))
        self.assertTrue(proxy.delHost("default", "default", "127.0.0.1:1"))
        for _ in range(2):
            process = self.start(args)
            process.waitFor("handover: took over")
            process.waitFor(r"handover: running the configuration of txlb pid \d+ \(2 differences")
            proxy = xmlrpc.client.ServerProxy("http://%s:%d/RPC2" % adminAddress(process))
            hosts = proxy.getStatus()["default"]["groups"]["default"]["hosts"]
            self.assertEqual(sorted(hosts), ["live"])
            self.assertEqual(request(process.address(), b"hi"), b"hi")

    def test_pidFile(self):
        """
        Started twice with the same twistd pid file, the second process
        takes the file over (twistd would otherwise refuse to start while
        the first runs) and it names the new process after the old one has
        gone.
        """
        backend = startBackend(self)
        pidfile = os.path.join(self.directory, "txlb.pid")
        argv = TWISTD + ["-n", "--pidfile", pidfile, "--logfile=-", "txlb", *LISTEN,
                         "--backend", backend.address, "--handover", self.path]
        first = Process(argv)
        self.processes.append(first)
        first.waitFor(SERVING)
        with open(pidfile) as f:
            self.assertEqual(int(f.read()), first.popen.pid)
        second = Process(argv)
        self.processes.append(second)
        second.waitFor(SERVING)
        self.assertEqual(first.wait(30), 0)
        with open(pidfile) as f:
            self.assertEqual(int(f.read()), second.popen.pid)
        self.assertEqual(second.stop(), -signal.SIGTERM)
        self.assertFalse(os.path.exists(pidfile))

    def test_workers(self):
        """
        With C{--workers 2}, worker 0 of the new set takes worker 0's
        sockets and the running description, its other worker binds next
        to it and catches up with that description, and the old set
        drains and exits.
        """
        a = startBackend(self, name, "a")
        b = startBackend(self, name, "b")
        args = ["txlb", *LISTEN, *ADMIN, "--backend", f"a={a.address}", "--handover", self.path, "--workers", "2"]
        first = self.start(args)
        first.waitFor(r"worker 1 \(pid \d+\) is serving")
        address = first.address()
        proxy = xmlrpc.client.ServerProxy("http://%s:%d/RPC2" % adminAddress(first))
        self.assertTrue(proxy.addHost("default", "default", "b", b.address))
        self.assertTrue(proxy.delHost("default", "default", "a"))
        second = self.start(args)
        self.assertEqual(second.address(), address)
        self.assertEqual(first.wait(30), 0)
        second.waitFor(r"worker 1 \(pid \d+\) is serving")
        answers = {request(address, b"") for _ in range(40)}
        self.assertEqual(answers, {b"b\n"})
        served = sum(w["accepted"] for w in xmlrpc.client.ServerProxy(
            "http://%s:%d/RPC2" % adminAddress(second)).getWorkers()[1:])
        self.assertGreater(served, 0)

    def test_tlsListener(self):
        """
        An C{ssl:} listener handed over still speaks TLS in the new process.
        """
        keyPath, certPath = selfSigned(self)
        backend = startBackend(self)
        args = ["txlb", "--listen", f"ssl:0:privateKey={keyPath}:certKey={certPath}:interface=127.0.0.1",
                "--backend", backend.address, "--handover", self.path]
        first = self.start(args)
        address = first.address()
        second = self.start(args)
        self.assertEqual(first.wait(30), 0)
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        with context.wrap_socket(socket.create_connection(address, timeout=10)) as s:
            s.sendall(b"over tls")
            self.assertEqual(s.recv(100), b"over tls")
        self.assertIsNone(second.popen.poll())

    def test_configAndHeartbeat(self):
        """
        C{--config FILE.tac --handover PATH}: the heartbeat socket moves too;
        datagrams sent to it after the handover reach the new process.
        """
        backend = startBackend(self)
        key = keyFile(self, "handover-test-key-0123456789abcdef\n")
        tac = temporaryFile(self, TAC % (backend.address, key))
        args = ["txlb", "--config", tac, "--handover", self.path]
        first = self.start(args)
        beats = first.waitFor(r"heartbeats on udp (\S+)")[0].group(1)
        second = self.start(args)
        self.assertEqual(second.waitFor(r"heartbeats on udp (\S+)")[0].group(1), beats)
        self.assertEqual(first.wait(30), 0)
        host, _, port = beats.rpartition(":")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.sendto(b"garbage", (host, int(port)))
        second.waitFor("dropped heartbeat from 127.0.0.1:\\d+: garbled")
        self.assertEqual(request(second.address(), b"hi"), b"hi")


TAC = """
from txlb.config import Balancer, Group, Heartbeat, Host, Service
from txlb.tac import application

application = application(Balancer(services=[
    Service("default", listen="tcp:0:interface=127.0.0.1", groups=[
        Group("default", hosts=[Host("a", %r)], heartbeat=Heartbeat("udp:0:interface=127.0.0.1", %r)),
    ]),
]))
"""


class HeldAddressTests(SynchronousTestCase):
    """
    A second txlb started without a handover on an address a running txlb
    holds is refused with one sentence, not silently sharing the port.
    """

    def refused(self, extra):
        backend = startBackend(self)
        first = Twistd(["txlb", *LISTEN, "--backend", backend.address, *extra])
        self.addCleanup(first.stop)
        host, port = first.address()
        second = Twistd(["txlb", "--listen", f"tcp:{port}:interface={host}", "--backend", backend.address, *extra])
        self.addCleanup(second.stop)
        self.assertNotEqual(second.wait(30), 0)
        self.assertRegex(
            second.output,
            re.escape(f"service default cannot listen on tcp:{port}:interface={host}: another process listens there"),
        )
        self.assertNotIn("Traceback", second.output)
        self.assertEqual(request((host, port), b"still"), b"still")

    def test_alone(self):
        """
        One process each.
        """
        self.refused([])

    def test_workers(self):
        """
        C{--workers 2} each: worker 0 binds without sharing first, so the
        second set's worker 0 is refused though both set C{SO_REUSEPORT}.
        """
        self.refused(["--workers", "2"])
