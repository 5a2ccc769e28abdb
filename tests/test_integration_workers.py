"""
C{--workers N} as users run it: a real twistd starting real worker
processes that share the listener, driven through the real admin.
"""

import os
import re
import shutil
import signal
import socket
import tempfile
import time
import xmlrpc.client

from twisted.trial.unittest import SynchronousTestCase

from tests.support import Process, Twistd, name, request, startBackend, startTwistd, temporaryFile
from tests.test_integration_admin import adminURL
from txlb.health import Beat, encode

LISTEN = ["--listen", "tcp:0:interface=127.0.0.1"]
ADMIN = ["--admin", "tcp:0:interface=127.0.0.1"]
SERVING = r"worker {index} \(pid (\d+)\) is serving"
KEY = b"k" * 32


def serving(process, index=1, count=1):
    """
    Wait until worker C{index} has come into service C{count} times; its pid.
    """
    return int(process.waitFor(SERVING.format(index=index), count=count)[-1].group(1))


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


class WorkerTests(SynchronousTestCase):
    def setUp(self):
        self.a = startBackend(self, name, "A")
        self.b = startBackend(self, name, "B")
        self.process, self.address = startTwistd(
            self, ["txlb", "--workers", "2", *LISTEN, *ADMIN, "--backend", self.a.address]
        )
        self.rpc = xmlrpc.client.ServerProxy(adminURL(self.process))
        self.worker = serving(self.process)

    def test_sharedAndSummed(self):
        """
        Both workers accept clients on the one address; getWorkers shows
        each worker's share and getStatus the sum over both.
        """
        for _ in range(60):
            self.assertEqual(request(self.address), b"A\n")
        workers = self.rpc.getWorkers()
        self.assertEqual([w["index"] for w in workers], [0, 1])
        self.assertEqual([w["state"] for w in workers], ["running", "running"])
        self.assertEqual(workers[1]["pid"], self.worker)
        self.assertTrue(all(w["accepted"] > 0 for w in workers), workers)
        self.assertEqual(sum(w["accepted"] for w in workers), 60)
        status = self.rpc.getStatus()["default"]
        host = status["groups"]["default"]["hosts"][self.a.address]
        self.assertEqual((status["accepted"], host["total"], host["open"]), (60, 60, 0))
        self.assertEqual(host["bytesOut"], 120.0)
        self.assertEqual(self.a.connections, 60)

    def test_changesReachEveryWorkerAndSurviveRestarts(self):
        """
        addHost and delHost change every worker; a worker that is killed is
        started again and replays both changes before it serves.
        """
        self.assertTrue(self.rpc.addHost("default", "default", "b", self.b.address))
        self.assertTrue(self.rpc.delHost("default", "default", self.a.address))
        self.assertEqual({request(self.address) for _ in range(40)}, {b"B\n"})
        os.kill(self.worker, signal.SIGKILL)
        self.process.waitFor(r"worker 1 \(pid %d\) exited \(killed by SIGKILL\)" % self.worker)
        again = serving(self.process, count=2)
        self.assertNotEqual(again, self.worker)
        self.assertIn("is serving after 2 admin changes", self.process.output)
        self.assertEqual({request(self.address) for _ in range(40)}, {b"B\n"})
        self.assertEqual(self.rpc.getWorkers()[1]["restarts"], 1)

    def test_newServiceOnPortZero(self):
        """
        newService on port 0 binds in worker 0, and every other worker
        shares the port the OS gave it.
        """
        self.assertTrue(self.rpc.newService("extra", "tcp:0:interface=127.0.0.1"))
        self.assertTrue(self.rpc.addHost("extra", "default", "b", self.b.address))
        (listening,) = self.rpc.getStatus()["extra"]["listeners"]
        host, _, port = listening.rpartition(":")
        before = [w["accepted"] for w in self.rpc.getWorkers()]
        self.assertEqual({request((host, int(port))) for _ in range(60)}, {b"B\n"})
        after = [w["accepted"] for w in self.rpc.getWorkers()]
        self.assertEqual(sum(after) - sum(before), 60)
        self.assertGreater(after[1], before[1])
        self.assertEqual(self.rpc.getStatus()["extra"]["accepted"], 60)
        self.assertEqual([w["refused"] for w in self.rpc.getWorkers()], [0, 0])

    def test_refusedChangeChangesNothing(self):
        """
        A call worker 0 refuses is a Fault and reaches no other worker.
        """
        with self.assertRaises(xmlrpc.client.Fault) as caught:
            self.rpc.addHost("default", "default", "bad", "not an address")
        self.assertIn("address", caught.exception.faultString)
        self.assertEqual({request(self.address) for _ in range(20)}, {b"A\n"})
        self.assertNotIn("refused", self.process.output)

    def test_stopStopsEveryWorker(self):
        """
        SIGTERM to worker 0 stops every worker, then worker 0 (twistd
        ends by the signal it was stopped with).
        """
        self.assertTrue(alive(self.worker))
        self.assertEqual(self.process.stop(), -signal.SIGTERM)
        # Worker 0 reaped the worker before it exited itself.
        self.process.waitFor("worker 1: .*Server Shut Down")
        self.assertFalse(alive(self.worker))


class WorkerHeartbeatTests(SynchronousTestCase):
    def test_beatsReachEveryWorker(self):
        """
        A host that joins by heartbeat (heard by worker 0) serves clients
        of every worker.
        """
        keyFile = temporaryFile(self, KEY.decode() + "\n", suffix=".key")
        backend = startBackend(self, name, "P")
        process, address = startTwistd(self, [
            "txlb", "--workers", "2", *LISTEN,
            "--heartbeat", "udp:0:interface=127.0.0.1", "--heartbeat-key-file", keyFile,
        ])
        serving(process)
        listener = process.waitFor(r"\] group default: heartbeats on udp (\S+)")[0].group(1)
        host, _, port = listener.rpartition(":")
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(udp.close)
        udp.sendto(encode(Beat("a", backend.address, 1, 0.0, "up", time.time(), "n" * 24, listener), KEY),
                   (host, int(port)))
        process.waitFor(r"worker 1: .*host a \(%s\) joined by heartbeat" % re.escape(backend.address))
        self.assertEqual({request(address) for _ in range(40)}, {b"P\n"})


class WorkerConfigTests(SynchronousTestCase):
    def refused(self, args):
        process = Twistd(["txlb", *args])
        self.addCleanup(process.stop)
        self.assertNotEqual(process.wait(), 0)
        self.assertNotIn("Traceback", process.output)
        return process.output

    def test_unixListener(self):
        """
        The workers share TCP listeners only: a UNIX listener is refused
        with a sentence.
        """
        directory = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, directory)
        path = os.path.join(directory, "lb.sock")
        out = self.refused(["--workers", "2", "--listen", f"unix:{path}", "--backend", "127.0.0.1:1"])
        self.assertIn("--workers shares TCP and ssl: listeners only", out)

    def test_badCount(self):
        """
        --workers takes a whole number from 1 to 64.
        """
        for bad, says in (("0", "at least 1"), ("two", "at least 1"), ("65", "at most 64")):
            out = self.refused(["--workers", bad, *LISTEN, "--backend", "127.0.0.1:1"])
            self.assertIn("twistd txlb: --workers", out)
            self.assertIn(says, out)


class WorkersTacTests(SynchronousTestCase):
    def test_workersTac(self):
        """
        tacs/workers.tac runs in two workers under twistd txlb --config
        --workers 2; txlbctl workers lists both.
        """
        from tests.support import TXLB
        from tests.test_integration_process import tacCopy

        a = startBackend(self, name, "app1")
        b = startBackend(self, name, "app2")
        path = tacCopy(self, "workers.tac", {
            "tcp:8080:": "tcp:0:", "tcp:8001:": "tcp:0:",
            "127.0.0.1:8081": a.address, "127.0.0.1:8082": b.address,
        })
        process, address = startTwistd(self, ["txlb", "--workers", "2", "--config", path], service="web")
        serving(process)
        self.assertEqual({request(address).strip() for _ in range(20)}, {b"app1", b"app2"})
        ctl = Process([TXLB[0], "-c", "import sys; from txlb.admin.ctl import main; sys.exit(main())",
                       "--url", adminURL(process), "workers"])
        self.assertEqual(ctl.wait(), 0, ctl.output)
        lines = ctl.output.splitlines()
        self.assertEqual(lines[0].split(), ["WORKER", "PID", "STATE", "RESTARTS", "REFUSED", "ACCEPTED"])
        self.assertEqual([l.split()[0] for l in lines[1:]], ["0", "1"])
        self.assertTrue(all(l.split()[2] == "running" for l in lines[1:]))
