"""
A backend dies mid-stream: its clients see the close promptly, the clients
of the other backend are untouched.
"""

import os
import select
import socket
import time
from contextlib import ExitStack

from faults._outcome import Outcome, check, checkReleased
from faults._processes import BackendProcess, afterwards, quickStart, startBalancer, usage

NAME = "backend dies mid-stream"


def _echoOnce(sock, payload):
    sock.sendall(payload)
    got = b""
    while len(got) < len(payload):
        data = sock.recv(65536)
        if not data:
            break
        got += data
    return got == payload


def _closed(sock):
    try:
        return sock.recv(65536) == b""
    except OSError:
        return True


def run(long=False):
    """
    Open 20 (200 with C{long}) streams over two echo backends, kill one.
    """
    count = 200 if long else 20
    with ExitStack() as stack:
        victim, survivor = BackendProcess(stack, "echo"), BackendProcess(stack, "echo")
        process, address = startBalancer(stack, quickStart([victim, survivor]))
        before = usage(process)
        socks = []
        for _ in range(count):
            s = socket.create_connection(address, timeout=10)
            stack.callback(s.close)
            socks.append(s)
        warm = sum(_echoOnce(s, b"x" * 1000) for s in socks)
        killed = time.monotonic()
        victim.kill()
        open_, closed, delays = list(socks), [], []
        while len(closed) < count // 2 and time.monotonic() - killed < 5:
            readable, _, _ = select.select(open_, [], [], 5)
            for s in readable:
                if _closed(s):
                    delays.append(time.monotonic() - killed)
                    closed.append(s)
                    open_.remove(s)
        payload = os.urandom(1048576)
        untouched = sum(_echoOnce(s, payload) for s in open_)
        for s in socks:
            s.close()
        after = afterwards(process, before)
    slowest = max(delays) if delays else float("inf")
    problems = []
    check(problems, warm == count, f"only {warm} of {count} streams echoed before the kill")
    check(problems, len(closed) == count // 2, f"{len(closed)} streams closed, not {count // 2}")
    check(problems, slowest < 1.0, f"slowest close took {slowest:.2f} s")
    check(problems, untouched == len(open_), f"{len(open_) - untouched} other streams disturbed")
    checkReleased(problems, before, after)
    return Outcome(
        NAME,
        f"{count} echo streams over 2 backends, one backend SIGKILLed, then 1 MiB "
        "echoed on every surviving stream",
        f"{len(closed)} streams of the dead backend closed, slowest after "
        f"{slowest * 1000:.0f} ms; {untouched}/{len(open_)} others echoed 1 MiB intact",
        bytesLost=(len(open_) - untouched) * len(payload),
        failed=count - warm + len(open_) - untouched,
        rss=(before[0], after[0]),
        fds=(before[1], after[1]),
        problems=problems,
    )
