"""
The pieces of C{--workers}, one at a time: shared ports, the worker setup,
the parent watch, summing the workers' counters, and worker 0's admin.
"""

import json
import os
import shutil
import socket

from twisted.internet import defer, reactor
from twisted.internet.error import CannotListenError
from twisted.internet.protocol import ServerFactory
from twisted.internet.task import Clock
from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import SynchronousTestCase

from txlb.admin import AdminAPI, AdminError
from txlb.builder import Builder, build
from txlb.config import Balancer, Group, Host, Service
from txlb.errors import ConfigError
from txlb.listener import Listener
from txlb.tap import Options
from txlb.workers import (
    ParentWatch,
    WorkerAdminAPI,
    WorkerRole,
    WorkerSet,
    listenShared,
    tcpAddress,
)
from txlb.workers._process import Output, exitReason


class SharedPortTests(SynchronousTestCase):
    def test_twoShareOneAddress(self):
        """
        Two shared ports bind the same address (as two workers do); a port
        without SO_REUSEPORT cannot.
        """
        first = self.successResultOf(listenShared(reactor, ServerFactory(), "127.0.0.1", 0, 50))
        self.addCleanup(first.stopListening)
        port = first.getHost().port
        second = self.successResultOf(listenShared(reactor, ServerFactory(), "127.0.0.1", port, 50))
        self.addCleanup(second.stopListening)
        self.assertEqual(second.getHost().port, port)
        plain = socket.socket()
        self.addCleanup(plain.close)
        self.assertRaises(OSError, plain.bind, ("127.0.0.1", port))

    def test_cannotListen(self):
        """
        A shared port on an address this machine does not have fails with
        CannotListenError.
        """
        self.failureResultOf(listenShared(reactor, ServerFactory(), "192.0.2.1", 0, 50), CannotListenError)

    def test_onlyTCP(self):
        """
        tcpAddress reads a TCP endpoint and refuses anything else with a
        sentence naming the service.
        """
        memory = MemoryReactorClock()
        tcp = Listener("web", "tcp:8080:interface=127.0.0.1:backlog=7", ServerFactory(), memory)
        self.assertEqual(tcpAddress(tcp), ("127.0.0.1", 8080, 7))
        unix = Listener("web", "unix:/tmp/web.sock", ServerFactory(), memory)
        e = self.assertRaises(ConfigError, tcpAddress, unix)
        self.assertEqual(
            str(e), "--workers shares TCP and ssl: listeners only; service web listens on unix:/tmp/web.sock"
        )


class WorkerRoleTests(SynchronousTestCase):
    def test_read(self):
        """
        The setup worker 0 writes is read back.
        """
        role = WorkerRole.fromEnvironment(json.dumps(
            {"index": 2, "count": 3, "parent": 10, "control": "/x/w.sock", "ports": [["web", "tcp:0", 4321]]}
        ))
        self.assertEqual((role.index, role.parent, role.control), (2, 10, "/x/w.sock"))
        self.assertEqual(role.ports, {("web", "tcp:0"): 4321})

    def test_garbage(self):
        """
        Anything else is a ConfigError.
        """
        for text in ("{", "[]", json.dumps({"index": 1})):
            self.assertRaises(ConfigError, WorkerRole.fromEnvironment, text)


class _Stoppable:
    stopped = 0

    def stop(self):
        self.stopped += 1


class ParentWatchTests(SynchronousTestCase):
    def test_stopsWhenParentGoes(self):
        """
        The worker stops once its parent pid changes, and only then.
        """
        clock, stoppable, parent = Clock(), _Stoppable(), [10]
        watch = ParentWatch(10, stoppable, clock, interval=1.0, getppid=lambda: parent[0])
        watch.startService()
        clock.advance(5)
        self.assertEqual(stoppable.stopped, 0)
        parent[0] = 1
        clock.advance(1)
        self.assertEqual(stoppable.stopped, 1)
        clock.advance(5)
        self.assertEqual(stoppable.stopped, 1)


def _balancer(memory):
    return build(Balancer(services=[Service(
        "web", listen=["tcp:0:interface=127.0.0.1"],
        groups=[Group("g", hosts=[Host("a", "127.0.0.1:1001")])],
    )]), reactor=memory)


class SummingTests(SynchronousTestCase):
    def test_counters(self):
        """
        The other workers' counters are summed and added to worker 0's in
        the admin's status; a worker that is not running adds nothing.
        """
        memory = MemoryReactorClock()
        top = _balancer(memory)
        workers = WorkerSet(top, 3, ["twistd"], memory)
        top.workers = workers
        status = {"web": {"accepted": 5, "unreachable": 1, "groups": {"g": {
            "waiting": 0, "queued": 2, "refused": 0,
            "hosts": {"a": {"open": 1, "total": 5, "failed": 0, "bytesIn": 10.0, "bytesOut": 20.0}}}}}}
        one, two = workers.workers
        one.state, one.status = "running", status
        two.state, two.status = "starting", status
        workers._sum()
        top.proxies["web"].pools["g"].hosts["a"].total = 3
        got = AdminAPI(top, Builder(memory)).getStatus()["web"]
        host = got["groups"]["g"]["hosts"]["a"]
        self.assertEqual((got["accepted"], got["unreachable"]), (5, 1))
        self.assertEqual((host["open"], host["total"], host["bytesOut"]), (1, 8, 20.0))
        self.assertEqual(got["groups"]["g"]["queued"], 2)
        rows = workers.describe(accepted=7)
        self.assertEqual([(r["index"], r["state"], r["accepted"]) for r in rows],
                         [(0, "running", 7), (1, "running", 5), (2, "starting", 5)])

    def test_exitReason(self):
        """
        A worker's exit is said as a signal name or a status.
        """
        from twisted.internet.error import ProcessTerminated

        self.assertEqual(exitReason(ProcessTerminated(signal=9)), "killed by SIGKILL")
        self.assertEqual(exitReason(ProcessTerminated(exitCode=3)), "status 3")

    def test_outputLines(self):
        """
        A worker's standard output and error are cut into lines each on
        its own, without twistd's timestamp; a last partial line is said
        when the worker exits.
        """
        from twisted.internet.error import ProcessDone
        from twisted.python.failure import Failure

        said, exited = [], []
        output = Output("w1", lambda w, line: said.append((w, line)), lambda *a: exited.append(a))
        output.childDataReceived(1, b"2026-11-25T04:00:00+0000 [txlb#info] serv")
        output.childDataReceived(2, b"Traceback (most rec")
        output.childDataReceived(1, b"ing\n\n")
        output.childDataReceived(2, b"ent call last)\npartial")
        output.processEnded(Failure(ProcessDone(0)))
        self.assertEqual(said, [("w1", "[txlb#info] serving"), ("w1", "Traceback (most recent call last)"),
                                ("w1", "partial")])
        self.assertEqual(len(exited), 1)


class _Broadcasts:
    def __init__(self):
        self.sent = []

    def broadcast(self, method, args, journal=True):
        self.sent.append((method, args))
        return defer.succeed([])


class WorkerAdminTests(SynchronousTestCase):
    def setUp(self):
        self.memory = MemoryReactorClock()
        self.top = _balancer(self.memory)
        self.workers = _Broadcasts()
        self.api = WorkerAdminAPI(AdminAPI(self.top, Builder(self.memory)), self.workers)

    def test_changeGoesEverywhere(self):
        """
        A change worker 0 makes is sent on, without the user, and the call
        answers with worker 0's result.
        """
        result = self.successResultOf(self.api.addHost("alice", "web", "g", "b", "127.0.0.1:1002", 2))
        self.assertIs(result, True)
        self.assertIn("b", self.top.proxies["web"].pools["g"].hosts)
        self.assertEqual(self.workers.sent, [("addHost", ("web", "g", "b", "127.0.0.1:1002", 2))])

    def test_refusedGoesNowhere(self):
        """
        A call worker 0 refuses raises there and is not sent on.
        """
        self.assertRaises(AdminError, self.api.addHost, "alice", "web", "g", "a", "127.0.0.1:1002")
        self.assertRaises(AdminError, self.api.delHost, "alice", "web", "nope", "a")
        self.assertEqual(self.workers.sent, [])

    def test_readsAndLogStayHere(self):
        """
        Reads and reopenLog are worker 0's own.
        """
        self.assertEqual(self.api.listServices(), ["web"])
        self.assertRaises(AdminError, self.api.reopenLog, "alice")
        self.assertEqual(self.workers.sent, [])


class OptionsTests(SynchronousTestCase):
    def test_workerArguments(self):
        """
        The other workers run the same flags, without --workers, with the
        defaults left out.
        """
        options = Options()
        options.parseOptions([
            "--workers", "3", "--listen", "tcp:0:interface=127.0.0.1", "--backend", "127.0.0.1:1",
            "--scheduler", "leastconns", "--idle-timeout", "30",
        ])
        arguments = options.workerArguments()
        self.assertEqual(arguments[:4], ["--listen", "tcp:0:interface=127.0.0.1", "--backend", "127.0.0.1:1"])
        self.assertIn("--scheduler", arguments)
        self.assertEqual(arguments[arguments.index("--idle-timeout") + 1], "30")
        self.assertNotIn("--workers", arguments)
        self.assertNotIn("--connect-timeout", arguments)
        workers = options.service.workers
        self.assertEqual((workers.count, workers.argv[-len(arguments):]), (3, arguments))


class _Process:
    """
    What the worker set keeps of a spawned worker.
    """

    def __init__(self, pid):
        self.pid = pid
        self.signals = []

    def signalProcess(self, name):
        self.signals.append(name)


class _Spawner(MemoryReactorClock):
    """
    A memory reactor that records spawned processes.
    """

    def __init__(self):
        MemoryReactorClock.__init__(self)
        self.spawned = []

    def spawnProcess(self, protocol, executable, args, env=None, childFDs=None, **kw):
        process = _Process(1000 + len(self.spawned))
        protocol.makeConnection(process)
        self.spawned.append((protocol, executable, args, env, process))
        return process


class SupervisionTests(SynchronousTestCase):
    def setUp(self):
        from twisted.internet.error import ProcessTerminated

        self.Terminated = ProcessTerminated
        self.reactor = _Spawner()
        self.top = _balancer(self.reactor)
        self.workers = WorkerSet(self.top, 3, ["python", "-c", "worker"], self.reactor, environ={})
        self.workers.startService()
        self.addCleanup(shutil.rmtree, self.workers.directory, True)
        self.reactor.run()

    def exit(self, index, **how):
        protocol, _, _, _, process = [s for s in self.reactor.spawned if s[0].worker.index == index][-1]
        from twisted.python.failure import Failure

        protocol.processEnded(Failure(self.Terminated(**how)))

    def test_spawnsWithSetup(self):
        """
        Two more workers start, each told its index, worker 0's pid, its
        control socket and the ports worker 0 bound.
        """
        self.assertEqual(len(self.reactor.spawned), 2)
        _, executable, args, env, _ = self.reactor.spawned[0]
        self.assertEqual((executable, args), ("python", ["python", "-c", "worker"]))
        role = WorkerRole.fromEnvironment(env["TXLB_WORKER"])
        self.assertEqual(role.index, 1)
        self.assertEqual(role.parent, os.getpid())
        self.assertTrue(role.control.endswith("worker-1.sock"))
        self.assertEqual([w.state for w in self.workers.workers], ["starting", "starting"])

    def test_restartBackOff(self):
        """
        A worker that keeps dying is started again after 1, 2, 4 ... s;
        one that ran 30 s starts over from 1 s.
        """
        delays = []
        for _ in range(3):
            self.exit(1, exitCode=1)
            before = len(self.reactor.spawned)
            waited = 0
            while len(self.reactor.spawned) == before:
                self.reactor.advance(0.5)
                waited += 0.5
            delays.append(waited)
        self.assertEqual(delays, [1.0, 2.0, 4.0])
        self.reactor.advance(30)
        self.exit(1, exitCode=1)
        before = len(self.reactor.spawned)
        self.reactor.advance(1.0)
        self.assertEqual(len(self.reactor.spawned), before + 1)
        self.assertEqual(self.workers.workers[0].restarts, 4)

    def test_stopSignalsAndWaits(self):
        """
        Stopping sends SIGTERM to every worker and waits for them to exit;
        one still running after the drain time and the grace is killed.
        """
        stopped = self.workers.stopService()
        processes = [s[4] for s in self.reactor.spawned]
        self.assertEqual([p.signals for p in processes], [["TERM"], ["TERM"]])
        self.assertNoResult(stopped)
        self.exit(1, signal=15)
        self.assertNoResult(stopped)
        self.reactor.advance(10 + 10)
        self.assertEqual(processes[1].signals, ["TERM", "KILL"])
        self.exit(2, signal=9)
        self.successResultOf(stopped)
        self.assertEqual(len(self.reactor.spawned), 2, "nothing was started again")
