"""
Slow peers: a client that does not read 100 MB a backend sends, and a
backend that does not read 100 MB a client sends. txlb must stop reading
from the fast side instead of buffering: its memory stays bounded.
"""

import socket
from contextlib import ExitStack

from faults._outcome import Outcome, check, checkReleased
from faults._processes import BackendProcess, afterwards, quickStart, startBalancer, usage

SIZE = 100 * 1048576
BOUND = 16 * 1048576
READER = "slow reader (client)"
WRITER = "slow reader (backend)"


def _mib(n):
    return f"{n / 1048576:.1f} MiB"


def reader(long=False):
    """
    A backend sends 100 MB to a client that reads nothing until the
    backend reports it is paused; then the client reads it all.
    """
    with ExitStack() as stack:
        source = BackendProcess(stack, "source", "--bytes", str(SIZE))
        process, address = startBalancer(stack, quickStart([source]))
        before = usage(process)
        s = socket.create_connection(address, timeout=30)
        stack.callback(s.close)
        source.process.waitFor(r"source paused")
        stalled = usage(process)
        received = 0
        while True:
            data = s.recv(1048576)
            if not data:
                break
            received += len(data)
        s.close()
        after = afterwards(process, before)
    growth = stalled[0] - before[0]
    problems = []
    check(problems, received == SIZE, f"received {received} of {SIZE} bytes")
    check(problems, growth < BOUND, f"RSS grew {_mib(growth)} while stalled")
    checkReleased(problems, before, after)
    return Outcome(
        READER,
        "a backend sends 100 MiB to a client that reads nothing until the backend "
        "is paused, then reads it all",
        f"RSS grew {_mib(growth)} while stalled; all {received} bytes arrived",
        bytesLost=SIZE - received,
        failed=int(received != SIZE),
        rss=(before[0], after[0]),
        fds=(before[1], after[1]),
        problems=problems,
    )


def writer(long=False):
    """
    A client sends 100 MB to a backend that never reads; the client's
    sends stall (a 1 s send timeout expires) instead of txlb buffering.
    """
    chunk = b"\x5a" * 65536
    with ExitStack() as stack:
        sink = BackendProcess(stack, "sink")
        # The client's close looks like a half-close to txlb, and the
        # backend never takes the rest: only the idle timeout ends it.
        process, address = startBalancer(stack, quickStart([sink], "--idle-timeout", "2"))
        before = usage(process)
        s = socket.create_connection(address, timeout=30)
        stack.callback(s.close)
        sink.process.waitFor(r"sink connected")
        s.settimeout(1.0)
        sent = 0
        try:
            while sent < SIZE:
                sent += s.send(chunk)
        except socket.timeout:
            pass
        stalled = usage(process)
        s.close()
        after = afterwards(process, before)
    growth = stalled[0] - before[0]
    problems = []
    check(problems, sent < SIZE, "all 100 MiB went into a backend that reads nothing")
    check(problems, growth < BOUND, f"RSS grew {_mib(growth)} while stalled")
    checkReleased(problems, before, after)
    return Outcome(
        WRITER,
        "a client tries to send 100 MiB to a backend that never reads, then "
        "closes; --idle-timeout 2",
        f"the client stalled after {_mib(sent)} (kernel buffers on the way); "
        f"RSS grew {_mib(growth)}; the idle timeout freed both connections",
        rss=(before[0], after[0]),
        fds=(before[1], after[1]),
        problems=problems,
    )
