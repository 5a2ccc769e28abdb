"""
Backends that let a client hang: one accepts but never answers (the idle
timeout must close the client), one never completes the TCP handshake
because its listen backlog is full (the connect timeout must fail the
client over to a live host).
"""

import socket
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

from faults._clients import transfer
from faults._outcome import Outcome, check, checkReleased
from faults._processes import BackendProcess, afterwards, quickStart, startBalancer, usage

SILENT = "backend never answers"
BACKLOG = "backend never completes the handshake"


class Blackhole:
    """
    A listening socket with a full backlog: further SYNs go unanswered.
    """

    def __init__(self, stack):
        self.listener = socket.socket()
        stack.callback(self.listener.close)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(0)
        self.address = "127.0.0.1:%d" % self.listener.getsockname()[1]
        for _ in range(4):
            s = socket.socket()
            stack.callback(s.close)
            s.setblocking(False)
            s.connect_ex(self.listener.getsockname())


def _many(address, count, payload, halfClose=True):
    def one(_):
        return transfer(address, payload, timeout=15, halfClose=halfClose)

    with ThreadPoolExecutor(count) as executor:
        return list(executor.map(one, range(count)))


def silent(long=False):
    """
    Clients of a backend that reads but never answers are closed by the
    idle timeout (1 s), none later than 3 s.
    """
    count = 200 if long else 20
    with ExitStack() as stack:
        backend = BackendProcess(stack, "silent")
        process, address = startBalancer(stack, quickStart([backend], "--idle-timeout", "1"))
        before = usage(process)
        results = _many(address, count, b"are you there?", halfClose=False)
        after = afterwards(process, before)
    slowest = max(r.seconds for r in results)
    hung = [r for r in results if r.error == "hung" or r.received]
    problems = []
    check(problems, not hung, f"{len(hung)} clients hung or got an answer")
    check(problems, 0.9 < slowest < 3.0, f"slowest close after {slowest:.2f} s")
    checkReleased(problems, before, after)
    return Outcome(
        SILENT,
        f"{count} concurrent clients to a backend that accepts and never answers, "
        "--idle-timeout 1",
        f"all closed by the idle timeout ({sum(r.error == 'reset' for r in results)} by reset) "
        f"within {min(r.seconds for r in results):.2f}-{slowest:.2f} s; none hung",
        failed=len(hung),
        rss=(before[0], after[0]),
        fds=(before[1], after[1]),
        problems=problems,
    )


def backlog(long=False):
    """
    Clients first sent to a host whose backlog is full are failed over to
    the live host when the connect timeout (1 s) fires; those whose SYN the
    kernel still answered (the connection looks made, but nobody accepts
    it) are closed by the idle timeout (2 s).
    """
    count = 200 if long else 20
    with ExitStack() as stack:
        hole = Blackhole(stack)
        live = BackendProcess(stack, "echo")
        process, address = startBalancer(
            stack, quickStart([hole, live], "--connect-timeout", "1", "--idle-timeout", "2")
        )
        before = usage(process)
        results = _many(address, count, b"ping")
        after = afterwards(process, before)
    good = [r for r in results if r.error is None and r.received == b"ping"]
    failedOver = [r for r in good if r.seconds > 0.9]
    closed = [r for r in results if r.error != "hung" and not r.received]
    bad = count - len(good) - len(closed)
    slowest = max(r.seconds for r in results)
    problems = []
    check(problems, not bad, f"{bad} clients hung or got wrong bytes")
    check(problems, slowest < 4.0, f"slowest client took {slowest:.2f} s")
    checkReleased(problems, before, after)
    return Outcome(
        BACKLOG,
        f"{count} concurrent clients over a host with a full listen backlog and a live "
        "one, --connect-timeout 1 --idle-timeout 2",
        f"{len(good)}/{count} answered ({len(failedOver)} failed over after the connect "
        f"timeout), {len(closed)} closed by the idle timeout, none hung; slowest "
        f"{slowest:.2f} s",
        failed=bad,
        rss=(before[0], after[0]),
        fds=(before[1], after[1]),
        problems=problems,
    )
