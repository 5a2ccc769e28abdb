"""
One worker process as worker 0 sees it: what it knows of it, the command
that starts it, its output relayed into worker 0's log, how its exit is
said, and how long to wait before starting it again.
"""

import re
import signal
import sys

from twisted.internet import defer
from twisted.internet.protocol import ProcessProtocol

#: The environment variable worker 0 passes a worker's setup in.
ENVIRONMENT = "TXLB_WORKER"
#: Restart delays: the first, the longest, and how long a worker must have
#: run for the delay to start again from the first.
RESTART_DELAY, RESTART_DELAY_MAX, RESTART_RESET = 1.0, 30.0, 30.0

# twistd --logfile=- starts each line with a timestamp worker 0's own log
# adds again.
_STAMP = re.compile(r"^\d{4}-\d\d-\d\dT[\d:.]+[+-]\d{4} ")
_LONGEST_LINE = 65536


class Worker:
    """
    What worker 0 knows of one other worker.
    """

    def __init__(self, index):
        self.index = index
        self.process = None
        self.pid = 0
        self.state = "stopped"
        self.restarts = 0
        self.failures = 0
        self.startedAt = 0.0
        self.control = None
        self.lock = defer.DeferredLock()
        self.status = {}
        self.exited = []
        self.told = False
        self.refused = 0

    def restartDelay(self, now):
        """
        Count an unplanned exit at C{now}; the seconds to wait before
        starting the worker again (doubling while it keeps failing soon
        after its start).
        """
        ranFor = now - self.startedAt
        self.failures = 0 if ranFor >= RESTART_RESET else self.failures + 1
        self.restarts += 1
        return min(RESTART_DELAY * 2 ** max(self.failures - 1, 0), RESTART_DELAY_MAX)


class Output(ProcessProtocol):
    """
    Relays a worker's output lines (standard output and error, each cut
    into lines on its own) to C{said(worker, line)}, and its exit to
    C{exited(worker, process, reason)}.
    """

    def __init__(self, worker, said, exited):
        self.worker = worker
        self.said = said
        self.exited = exited
        self.buffers = {}

    def childDataReceived(self, fd, data):
        lines = (self.buffers.get(fd, b"") + data).split(b"\n")
        rest = lines.pop()
        if len(rest) > _LONGEST_LINE:
            lines.append(rest)
            rest = b""
        self.buffers[fd] = rest
        for line in lines:
            self._say(line)

    def _say(self, line):
        text = _STAMP.sub("", line.decode("utf-8", "replace").rstrip("\r"))
        if text.strip():
            self.said(self.worker, text)

    def processEnded(self, reason):
        for rest in self.buffers.values():
            if rest:
                self._say(rest)
        self.buffers = {}
        self.exited(self.worker, self.transport, reason.value)


def exitReason(reason):
    """
    How a worker ended (a C{ProcessDone} or C{ProcessTerminated}), in a
    few words.
    """
    signalNumber = getattr(reason, "signal", None)
    if signalNumber:
        try:
            return f"killed by {signal.Signals(signalNumber).name}"
        except ValueError:
            return f"killed by signal {signalNumber}"
    return f"status {getattr(reason, 'exitCode', '?')}"


def workerCommand(txlbArguments, executable=None):
    """
    The command that starts one more worker: twistd in the foreground,
    logging to standard output, with no pid file, running C{twistd txlb}
    with C{txlbArguments}.
    """
    return [
        executable or sys.executable, "-c", "from twisted.scripts.twistd import run; run()",
        "--nodaemon", "--pidfile=", "--logfile=-", "txlb", *txlbArguments,
    ]
