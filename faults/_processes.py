"""
The real processes a scenario runs: a C{twistd txlb}, backend processes,
one with its admin; and what is read from them (RSS, open
descriptors).

This builds on C{tests/support.py} (run the suite from a checkout).
"""

import os
import re
import signal
import sys
import xmlrpc.client

from tests.support import TWISTD, Process, Twistd, rss
from faults._clients import settle

LOCAL = "tcp:0:interface=127.0.0.1"


def fds(pid):
    """
    How many file descriptors process C{pid} has open.
    """
    return len(os.listdir(f"/proc/{pid}/fd"))


def usage(process):
    """
    C{(rss, fds)} of a running L{Process}.
    """
    pid = process.popen.pid
    return rss(pid), fds(pid)


def afterwards(process, before, timeout=10.0):
    """
    Wait until C{process} has no more descriptors open than C{before[1]}
    (or C{timeout} passes); return its C{(rss, fds)} then.
    """
    settle(lambda: usage(process)[1], lambda n: n <= before[1], timeout)
    return usage(process)


def listening(process, service="default", timeout=20.0):
    """
    Wait until C{service} logs that it listens; return C{(host, port)}.
    """
    return Twistd.address(process, service, timeout)


def startBalancer(stack, args, nofile=None, service="default"):
    """
    Start C{twistd -n txlb ARGS} (stopped when C{stack} closes), with
    C{nofile=(soft, hard)} as its descriptor limits when given; return
    C{(process, address)} once it listens.
    """
    argv = TWISTD + ["-n", "--pidfile=", "--logfile=-", "txlb"] + list(args)
    if nofile is not None:
        argv[2] = (
            "import resource; resource.setrlimit(resource.RLIMIT_NOFILE, (%d, %d)); "
            % nofile
        ) + argv[2]
    process = Process(argv)
    stack.callback(process.stop)
    return process, listening(process, service)


def quickStart(backends, *flags):
    """
    The C{twistd txlb} flags for a quick start on a free local port.
    """
    args = ["--listen", LOCAL]
    for backend in backends:
        args += ["--backend", backend.address]
    return args + list(flags)


class BackendProcess:
    """
    A L{faults.backendserver} process; can be killed and restarted
    on the same port.
    """

    def __init__(self, stack, mode, *args):
        self.stack = stack
        self.mode = mode
        self.args = list(args)
        self.port = 0
        self.process = None
        self.start()

    def start(self):
        """
        Start (again), on the same port as before if there was one.
        """
        argv = [sys.executable, "-m", "faults.backendserver", self.mode]
        argv += ["--port", str(self.port)] + self.args
        self.process = Process(argv)
        self.stack.callback(self.process.stop)
        line = self.process.waitFor(r"backend listening on (\d+)")[0]
        self.port = int(line.group(1))

    @property
    def address(self):
        """
        C{127.0.0.1:PORT}, as a C{--backend} value.
        """
        return f"127.0.0.1:{self.port}"

    def kill(self):
        """
        SIGKILL it and wait until it is gone.
        """
        self.process.popen.send_signal(signal.SIGKILL)
        self.process.wait()


class AdminBalancer:
    """
    A real C{twistd txlb} with its admin on loopback: the suite reads its
    counters the way users do, through C{getStatus}.

    @ivar process: the L{Process} running it.
    @ivar address: where its service C{default} listens.
    @ivar url: its admin's XML-RPC URL.
    """

    def __init__(self, stack, backends, *flags):
        args = quickStart(backends, *flags, "--admin", "tcp:0:interface=127.0.0.1")
        self.process, self.address = startBalancer(stack, args)
        host, port = listening(self.process, "admin")
        self.url = f"http://{host}:{port}/RPC2"

    def counters(self):
        """
        C{getStatus()} of the service C{default}.
        """
        # A connection of its own, closed at once: it must not count as a
        # descriptor txlb still holds.
        with xmlrpc.client.ServerProxy(self.url) as rpc:
            return rpc.getStatus()["default"]


def lines(process, pattern):
    """
    How many output lines of C{process} match C{pattern} so far.
    """
    regex = re.compile(pattern)
    return sum(1 for line in list(process.lines) if regex.search(line))
