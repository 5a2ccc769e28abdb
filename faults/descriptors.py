"""
File descriptors: 10,000 idle client connections held (txlb raises its
soft limit to the hard one at start), and running out of descriptors
(EMFILE): txlb keeps running, logs one line per burst, and recovers.
"""

import resource
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

from txlb._limits import raiseFileLimit
from faults._clients import settle, transfer
from faults._outcome import Outcome, check, checkReleased
from faults._processes import BackendProcess, afterwards, lines, quickStart, startBalancer, usage

IDLE = "idle client connections"
EMFILE = "out of descriptors (EMFILE)"


def _hardLimitFor(needed):
    """
    A hard limit of at least C{needed} when this process may raise its own
    (it needs CAP_SYS_RESOURCE), else the current hard limit.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard >= needed:
        return hard
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, needed))
    except (OSError, ValueError):
        return hard
    return needed


def _connect(address, count, stack):
    socks = []
    for _ in range(count):
        s = socket.create_connection(address, timeout=10)
        stack.callback(s.close)
        socks.append(s)
    return socks


def idle(long=False):
    """
    Hold 10,000 idle connections (fewer when the hard descriptor limit does
    not allow that many) through txlb started with a soft limit of 1024;
    report the memory each one costs.
    """
    wanted = 10000
    raiseFileLimit()
    hard = _hardLimitFor(2 * wanted + 1000)
    ours = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    count = min(wanted, (hard - 200) // 2, ours - 500)
    with ExitStack() as stack:
        backend = BackendProcess(stack, "echo")
        process, address = startBalancer(stack, quickStart([backend]), nofile=(1024, hard))
        raised = lines(process, r"open file limit raised from 1024 to %d" % hard)
        before = usage(process)
        started = time.monotonic()
        socks = _connect(address, count, stack)
        held = settle(lambda: usage(process)[1], lambda n: n >= before[1] + 2 * count, 120)
        duration = time.monotonic() - started
        stalled = usage(process)
        sample = socks[:: max(1, count // 100)]
        echoed = 0
        for s in sample:
            s.sendall(b"still there?")
            echoed += s.recv(64) == b"still there?"
        for s in socks:
            s.close()
        after = afterwards(process, before, 30)
    perConnection = (stalled[0] - before[0]) / count
    problems = []
    check(problems, raised == 1, f"no log line saying the limit was raised to {hard}")
    check(problems, held >= before[1] + 2 * count, f"only {held - before[1]} descriptors held")
    check(problems, echoed == len(sample), f"{len(sample) - echoed} sampled connections dead")
    checkReleased(problems, before, after)
    return Outcome(
        IDLE,
        f"{count} idle connections opened in {duration:.1f} s through txlb started with "
        f"a soft limit of 1024 (hard {hard}); one in {len(socks) // len(sample)} "
        "probed with an echo (RSS after: while they are held)",
        f"soft limit raised to {hard}; {held - before[1]} descriptors held; "
        f"{perConnection / 1024:.1f} KiB of RSS per client connection (with its "
        f"backend connection); {echoed}/{len(sample)} probes echoed",
        failed=len(sample) - echoed,
        rss=(before[0], stalled[0]),
        fds=(before[1], after[1]),
        problems=problems,
    )


def _churn(address, keep, stop):
    """
    Open connections without waiting, keeping the last C{keep} open, until
    C{stop} is set; return how many were opened.
    """
    socks, opened = [], 0
    while not stop.is_set():
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(address)
        socks.append(s)
        opened += 1
        if len(socks) > keep:
            socks.pop(0).close()
        stop.wait(0.002)  # pacing, not waiting for anything
    for s in socks:
        s.close()
    return opened


def emfile(long=False):
    """
    Start txlb with 128 descriptors and keep 300 connections coming and
    going until it has reported running out three times: txlb keeps
    running, logs accept errors at most once a second (counting the rest),
    and serves every new client once descriptors are free again.
    """
    limit = 128
    with ExitStack() as stack:
        backend = BackendProcess(stack, "echo")
        process, address = startBalancer(stack, quickStart([backend]), nofile=(limit, limit))
        before = usage(process)
        started = time.monotonic()
        stop = threading.Event()
        with ThreadPoolExecutor(1) as executor:
            churning = executor.submit(_churn, address, 300, stop)
            try:
                reports = process.waitFor(r"service default on \S+: .*\((\d+) more since", 15, 2)
                full = usage(process)[1]
            finally:
                stop.set()
            opened = churning.result()
        duration = time.monotonic() - started
        released = afterwards(process, before, 30)
        later = [transfer(address, b"back?", timeout=10) for _ in range(20)]
        recovered = sum(r.received == b"back?" for r in later)
        after = usage(process)
        alive = process.popen.poll() is None
        acceptLines = lines(process, r"service default on \S+: ")
        suppressed = sum(int(m.group(1)) for m in reports)
        unreachableLines = lines(process, r"closing client")
        tracebacks = lines(process, r"Traceback")
    seconds = max(1, int(duration + 1))
    problems = []
    check(problems, alive, "txlb exited")
    check(problems, recovered == 20, f"only {recovered}/20 new clients served afterwards")
    check(problems, acceptLines <= seconds + 1, f"{acceptLines} accept-error lines in {seconds} s")
    check(problems, unreachableLines <= seconds + 1, f"{unreachableLines} 'closing client' lines")
    check(problems, not tracebacks, f"{tracebacks} tracebacks logged")
    checkReleased(problems, before, released)
    return Outcome(
        EMFILE,
        f"txlb limited to {limit} descriptors; {opened} connections opened over "
        f"{duration:.1f} s, 300 open at a time; then all closed and 20 new clients",
        f"txlb kept running at {full} descriptors; {acceptLines} accept-error lines "
        f"(at least {suppressed} more events counted, not logged) and "
        f"{unreachableLines} unreachable lines; no traceback; {recovered}/20 new "
        "clients served after recovery",
        failed=20 - recovered,
        rss=(before[0], after[0]),
        fds=(before[1], released[1]),
        problems=problems,
    )
