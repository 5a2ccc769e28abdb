"""
Accounting under abuse, read through the admin of a real twistd (as users
read it): a backend flapping up and down under load, and clients that send
garbage, connect and close at once, or send and reset. Afterwards every
open counter must be exactly 0 and the totals must add up.
"""

import os
import random
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

from faults._clients import reset, settle, transfer
from faults._outcome import Outcome, check, checkReleased
from faults._processes import AdminBalancer, BackendProcess, afterwards, usage

FLAPPING = "flapping backend under load"
GARBAGE = "garbage, instant close, send-and-reset clients"


def _open(counters):
    hosts = counters["groups"]["default"]["hosts"].values()
    return (
        counters["clients"]
        + counters["groups"]["default"]["waiting"]
        + sum(h["open"] for h in hosts)
    )


def _checkCounters(problems, counters, made):
    hosts = counters["groups"]["default"]["hosts"]
    for name, host in hosts.items():
        check(problems, host["open"] == 0, f"host {name} still counts {host['open']} open")
    check(problems, counters["clients"] == 0, f"{counters['clients']} clients still open")
    check(problems, counters["accepted"] == made, f"accepted {counters['accepted']}, not {made}")
    attempts = sum(h["total"] for h in hosts.values())
    failures = sum(h["failed"] for h in hosts.values())
    check(problems, attempts >= failures, "more failures than attempts")
    return attempts, failures


def _summary(counters, attempts, failures):
    return (
        f"afterwards open 0 everywhere; accepted {counters['accepted']}, "
        f"unreachable {counters['unreachable']}, backend attempts {attempts} "
        f"of which {failures} failed"
    )


def flapping(long=False):
    """
    Eight clients echo 64 KiB at a time through a flapping backend
    (down/up every 300 ms) and a steady one, for 5 s (60 s with C{long}).
    """
    seconds = 60 if long else 5
    payload = os.urandom(65536)
    with ExitStack() as stack:
        flap = BackendProcess(stack, "flap", "--period", "0.3")
        steady = BackendProcess(stack, "echo")
        balancer = AdminBalancer(stack, [flap, steady], "--connect-timeout", "1")
        before = usage(balancer.process)
        deadline = time.monotonic() + seconds

        def worker(_):
            mine = []
            while time.monotonic() < deadline:
                mine.append(transfer(balancer.address, payload, timeout=10))
                # Paced, so that TIME_WAIT sockets do not use up local ports.
                time.sleep(0.02)
            return mine

        with ThreadPoolExecutor(8) as executor:
            results = [r for rs in executor.map(worker, range(8)) for r in rs]
        counters = settle(balancer.counters, lambda c: _open(c) == 0)
        after = afterwards(balancer.process, before)
    intact = sum(r.error is None and r.received == payload for r in results)
    cut = sum(r.received == payload[: len(r.received)] and r.error != "hung" for r in results)
    corrupt = len(results) - cut
    hung = sum(r.error == "hung" for r in results)
    problems = []
    attempts, failures = _checkCounters(problems, counters, len(results))
    check(problems, not corrupt, f"{corrupt} connections got wrong bytes")
    check(problems, not hung, f"{hung} connections hung")
    checkReleased(problems, before, after)
    return Outcome(
        FLAPPING,
        f"{len(results)} connections echoing 64 KiB from 8 clients for {seconds} s over "
        "a backend going down (reset all) and up every 300 ms and a steady one",
        f"{intact} intact, {cut - intact} cut visibly by a flap, {hung} hung; "
        + _summary(counters, attempts, failures),
        bytesLost=0 if not corrupt else None,
        failed=corrupt + hung,
        rss=(before[0], after[0]),
        fds=(before[1], after[1]),
        problems=problems,
    )


def _garbageClient(address, rng, kind):
    if kind == "close":
        socket.create_connection(address, timeout=10).close()
        return True
    data = os.urandom(rng.randint(1, 65536))
    if kind == "reset":
        s = socket.create_connection(address, timeout=10)
        s.sendall(data)
        reset(s)
        return True
    result = transfer(address, data, timeout=10)
    return result.error is None and result.received == data


def garbage(long=False, seed=None):
    """
    300 clients (3,000 with C{long}), a third each: random bytes echoed
    back, connect-and-close at once, send-and-reset; over a live and a
    dead backend.
    """
    count = 3000 if long else 300
    rng = random.Random(seed)
    kinds = ["echo", "close", "reset"] * (count // 3)
    rng.shuffle(kinds)
    with ExitStack() as stack:
        live = BackendProcess(stack, "echo")
        dead = BackendProcess(stack, "echo")
        dead.kill()
        balancer = AdminBalancer(stack, [live, dead], "--connect-timeout", "1")
        before = usage(balancer.process)
        lock = threading.Lock()

        def one(kind):
            with lock:
                seed = rng.random()
            return kind, _garbageClient(balancer.address, random.Random(seed), kind)

        with ThreadPoolExecutor(16) as executor:
            results = list(executor.map(one, kinds))
        counters = settle(balancer.counters, lambda c: _open(c) == 0)
        after = afterwards(balancer.process, before)
        alive = balancer.process.popen.poll() is None
    echoes = [ok for kind, ok in results if kind == "echo"]
    problems = []
    attempts, failures = _checkCounters(problems, counters, count)
    check(problems, alive, "the balancer exited")
    check(problems, all(echoes), f"{echoes.count(False)} garbage echoes came back wrong")
    checkReleased(problems, before, after)
    return Outcome(
        GARBAGE,
        f"{count} clients over a live and a dead backend: {len(echoes)} send up to 64 KiB "
        f"of random bytes and read the echo, {kinds.count('close')} connect and close at "
        f"once, {kinds.count('reset')} send and reset",
        f"no crash; {sum(echoes)}/{len(echoes)} echoes intact; "
        + _summary(counters, attempts, failures),
        bytesLost=0 if all(echoes) else None,
        failed=echoes.count(False),
        rss=(before[0], after[0]),
        fds=(before[1], after[1]),
        problems=problems,
    )
