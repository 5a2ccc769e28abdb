"""
The worker set, run by worker 0 (the process twistd started): it starts
the other workers, keeps them running, passes every admin change and
every accepted heartbeat on to them, and sums their counters for the
admin.

A worker's life: started (C{starting}); once its control socket answers,
worker 0 replays every change made through the admin so far, in order
(C{replaying}); then it binds its listeners (C{running}). A worker that
exits without being asked to is started again, after a delay that grows
while it keeps failing.
"""

import json
import os
import shutil
import tempfile
import xmlrpc.client

from twisted.application.service import Service
from twisted.internet import defer
from twisted.internet.error import ProcessExitedAlready
from twisted.internet.task import LoopingCall
from twisted.logger import Logger

from txlb.workers._control import ControlClient
from txlb.workers._figures import sumStatuses
from txlb.workers._process import ENVIRONMENT, Output, Worker, exitReason

#: Seconds between two polls of the workers' counters.
POLL_INTERVAL = 1.0
#: Seconds a worker may take to exit after being told to stop, beyond the
#: drain time, before it is killed.
STOP_GRACE = 10.0


class WorkerSet(Service):
    """
    Runs C{count - 1} more workers beside this process (worker 0), each a
    full balancer built from the same configuration.

    @ivar journal: every change made through the admin, as
        C{(method, arguments)}, replayed to a worker when it (re)starts.
    @ivar figures: the other workers' counters summed, by
        C{(service,)}, C{(service, group)} and C{(service, group, host)},
        as of the last poll.
    """

    log = Logger()
    name = "workers"

    def __init__(self, balancer, count, argv, reactor, clock=None, environ=None):
        """
        @param argv: the command that starts one more worker (twistd
            running the same configuration in the foreground, logging to
            standard output).
        """
        self.balancer = balancer
        self.count = count
        self.argv = list(argv)
        self.reactor = reactor
        self.clock = clock if clock is not None else reactor
        self.environ = dict(os.environ if environ is None else environ)
        self.workers = [Worker(i) for i in range(1, count)]
        self.journal = []
        self.figures = {}
        self.directory = None
        self.stopping = False
        self._poll = None
        self._timers = {}

    # Starting and stopping

    def startService(self):
        Service.startService(self)
        self.stopping = False
        self.directory = tempfile.mkdtemp(prefix="txlb-workers-")
        self.reactor.callWhenRunning(self._startAll)

    def _startAll(self):
        if self.stopping:
            return
        self.log.info("starting {count} more workers", count=len(self.workers))
        for worker in self.workers:
            self._spawn(worker)
        self._poll = LoopingCall(self.refresh)
        self._poll.clock = self.clock
        self._poll.start(POLL_INTERVAL, now=False)

    def _setup(self, worker):
        ports = []
        for name, proxy in self.balancer.proxies.items():
            for listener in proxy.listeners:
                if listener.port is not None:
                    ports.append([name, listener.description, listener.port.getHost().port])
        return {
            "index": worker.index,
            "count": self.count,
            "parent": os.getpid(),
            "control": self.controlPath(worker),
            "ports": ports,
        }

    def signal(self, signum):
        """
        Send signal C{signum} (such as C{signal.SIGUSR1}) to every other
        worker running now; return how many were sent it.
        """
        sent = 0
        for worker in self.workers:
            if worker.process is None:
                continue
            try:
                worker.process.signalProcess(signum)
            except (ProcessExitedAlready, OSError):
                continue
            sent += 1
        return sent

    def controlPath(self, worker):
        """
        The UNIX socket worker C{worker} takes control calls on.
        """
        return os.path.join(self.directory, f"worker-{worker.index}.sock")

    def _spawn(self, worker):
        self._timers.pop(worker.index, None)
        if self.stopping:
            return
        env = dict(self.environ)
        env[ENVIRONMENT] = json.dumps(self._setup(worker))
        env.setdefault("PYTHONUNBUFFERED", "1")
        path = self.controlPath(worker)
        if os.path.exists(path):
            os.unlink(path)
        worker.process = self.reactor.spawnProcess(
            Output(worker, self.workerSaid, self.workerExited), self.argv[0], self.argv, env=env,
            childFDs={0: "w", 1: "r", 2: "r"},
        )
        worker.pid = worker.process.pid
        worker.state = "starting"
        worker.told = False
        worker.status = {}
        worker.startedAt = self.clock.seconds()
        worker.control = ControlClient(self.reactor, path, self.clock)
        self.log.info("worker {index} started (pid {pid})", index=worker.index, pid=worker.pid)

    def stopService(self):
        Service.stopService(self)
        self.stopping = True
        if self._poll is not None and self._poll.running:
            self._poll.stop()
        for timer in self._timers.values():
            if timer.active():
                timer.cancel()
        self._timers.clear()
        waiting = []
        drain = max([p.drainTimeout or 0 for p in self.balancer.proxies.values()], default=0)
        for worker in self.workers:
            if worker.process is None:
                continue
            exited = defer.Deferred()
            worker.exited.append(exited)
            waiting.append(exited)
            if not worker.told:
                self._signal(worker, "TERM")
            killer = self.clock.callLater(drain + STOP_GRACE, self._signal, worker, "KILL")
            exited.addBoth(lambda result, killer=killer: killer.cancel() if killer.active() else None)
        d = defer.DeferredList(waiting)
        d.addBoth(self._cleanUp)
        return d

    def _signal(self, worker, name):
        if worker.process is not None:
            try:
                worker.process.signalProcess(name)
            except (OSError, ProcessExitedAlready):
                pass

    def _cleanUp(self, _):
        for worker in self.workers:
            if worker.control is not None:
                worker.control.close()
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)

    def stopWorkers(self, drainSeconds=None):
        """
        Tell every other worker to stop, letting open connections finish
        for up to C{drainSeconds} (each worker's own drain time when None).
        """
        self.stopping = True
        args = () if drainSeconds is None else (drainSeconds,)
        for worker in self.workers:
            if worker.state in ("replaying", "running"):
                worker.told = True
                self._call(worker, "shutdown", args)
            elif worker.process is not None:
                self._signal(worker, "TERM")

    # Worker events

    def workerSaid(self, worker, line):
        self.log.info("worker {index}: {line}", index=worker.index, line=line)

    def workerExited(self, worker, process, reason):
        if worker.process is not process:
            return
        worker.process = None
        worker.state = "stopped"
        worker.status = {}
        if worker.control is not None:
            worker.control.close()
            worker.control = None
        exited, worker.exited = worker.exited, []
        for d in exited:
            d.callback(None)
        if self.stopping:
            return
        delay = worker.restartDelay(self.clock.seconds())
        self.log.warn(
            "worker {index} (pid {pid}) exited ({why}); starting it again in {delay:g} s",
            index=worker.index, pid=worker.pid, why=exitReason(reason), delay=delay,
        )
        self._timers[worker.index] = self.clock.callLater(delay, self._spawn, worker)
        self._sum()

    # Changes

    def _call(self, worker, method, args):
        """
        Call C{method} on C{worker} after every call sent to it before; a
        Deferred that fires with True when the worker did it, else False.
        """
        control = worker.control

        def call():
            if control is None or worker.control is not control:
                return defer.succeed(False)
            d = control.call(method, *args)
            d.addCallbacks(lambda _: True, self._refused, errbackArgs=(worker, method))
            return d

        return worker.lock.run(call)

    def _refused(self, reason, worker, method):
        if worker.state != "stopped" and not self.stopping:
            worker.refused += 1
            self.log.error(
                "worker {index}: {why}", index=worker.index, why=reason.getErrorMessage()
            )
        return False

    def broadcast(self, method, args, journal=True):
        """
        Make the same change in every other worker, after the changes made
        before it; with C{journal}, workers that start later make it too.
        A Deferred that fires once every running worker has answered.
        """
        args = tuple(args)
        if journal:
            self.journal.append((method, args))
        calls = [self._call(w, method, args) for w in self.workers if w.state in ("replaying", "running")]
        return defer.DeferredList(calls)

    def heartbeatForwarder(self, service, group):
        """
        A function passing each heartbeat worker 0 accepts for C{group} of
        C{service} on to the other workers.
        """

        def forward(datagram, source):
            self.broadcast(
                "worker.heartbeat",
                (service, group, xmlrpc.client.Binary(datagram), str(source[0]), int(source[1])),
                journal=False,
            )

        return forward

    # Polling

    def refresh(self):
        """
        Ask every other worker for its status (and bring starting ones into
        service); a Deferred that fires once all have answered.
        """
        polls = []
        for worker in self.workers:
            if worker.state == "running":
                polls.append(self._pollOne(worker))
            elif worker.state == "starting" and worker.control is not None:
                polls.append(self._admit(worker))
        d = defer.DeferredList(polls)
        d.addCallback(lambda _: self._sum())
        return d

    def _pollOne(self, worker):
        control = worker.control
        d = control.call("getStatus")

        def got(status):
            if worker.control is control:
                worker.status = status

        d.addCallbacks(got, lambda _: None)
        return d

    def _admit(self, worker):
        control = worker.control
        d = control.call("getWorkers")

        def answered(_):
            if worker.control is not control or worker.state != "starting":
                return None
            worker.state = "replaying"
            for method, args in list(self.journal):
                self._call(worker, method, args)
            serving = self._call(worker, "worker.serve", ())
            serving.addCallback(lambda ok: self._serving(worker, control, ok))
            return serving

        d.addCallbacks(answered, lambda _: None)
        return d

    def _serving(self, worker, control, ok):
        if worker.control is not control or not ok:
            return None
        worker.state = "running"
        self.log.info(
            "worker {index} (pid {pid}) is serving{replayed}",
            index=worker.index, pid=worker.pid,
            replayed=f" after {len(self.journal)} admin changes" if self.journal else "",
        )
        return self._pollOne(worker)

    def _sum(self):
        self.figures = sumStatuses(w.status for w in self.workers if w.state == "running")

    def extra(self, key):
        """
        The other workers' summed counters for C{key} (see L{figures}).
        """
        return self.figures.get(key, {})

    def describe(self, accepted):
        """
        Every worker, worker 0 first, for the admin's C{getWorkers}.

        @param accepted: how many clients worker 0 accepted.
        """
        rows = [{"index": 0, "pid": os.getpid(), "state": "running", "restarts": 0, "refused": 0,
                 "accepted": accepted}]
        for worker in self.workers:
            rows.append({
                "index": worker.index,
                "pid": worker.pid if worker.process is not None else 0,
                "state": worker.state,
                "restarts": worker.restarts,
                "refused": worker.refused,
                "accepted": sum(s.get("accepted", 0) for s in worker.status.values()),
            })
        return rows

