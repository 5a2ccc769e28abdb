"""
Integrity: many clients push sha256-checked random data through txlb to
echo backends while the backends are killed and restarted at random.

Every connection must either come back byte-identical, or be cut visibly
(EOF or reset) with what arrived an exact prefix of what was sent; none
may hang, and new connections must keep succeeding afterwards.
"""

import hashlib
import os
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

from faults._clients import transfer
from faults._outcome import Outcome, check, checkReleased
from faults._processes import BackendProcess, afterwards, lines, quickStart, startBalancer, usage

NAME = "integrity under backend kills"
#: The same on Twisted's normal path only (no splice(2)).
NORMAL = "integrity under backend kills, --no-splice"


def _oneClient(address, payload):
    result = transfer(address, payload, timeout=20)
    got = result.received
    intact = hashlib.sha256(got).digest() == hashlib.sha256(payload[: len(got)]).digest()
    return len(payload), result, intact


def normal(long=False, seed=None):
    """
    L{run} with every byte on Twisted's normal path (C{--no-splice}).
    """
    return run(long, seed, flags=("--no-splice",), name=NORMAL)


def run(long=False, seed=None, flags=(), name=NAME):
    """
    Run the scenario: at least 64 MiB and 10 kills, or with C{long} 1 GiB
    and 100 (clients keep going until both are reached). Large transfers
    move to the zero-copy path unless C{flags} say C{--no-splice}.
    """
    total = (1024 if long else 64) * 1048576
    kills = 100 if long else 10
    clients = 16 if long else 8
    rng = random.Random(seed)
    pool = os.urandom(8 * 1048576)
    with ExitStack() as stack:
        backends = [BackendProcess(stack, "echo") for _ in range(3)]
        process, address = startBalancer(stack, quickStart(backends, "--connect-timeout", "2", *flags))
        before = usage(process)
        stop = threading.Event()

        def killer():
            done = 0
            while done < kills and not stop.is_set():
                stop.wait(rng.uniform(0.05, 0.3))
                victim = rng.choice(backends)
                victim.kill()
                stop.wait(rng.uniform(0.0, 0.2))
                victim.start()
                done += 1
            return done

        pushed = [0]
        lock = threading.Lock()

        def worker(killing):
            mine = []
            while True:
                with lock:
                    if pushed[0] >= total and killing.done():
                        return mine
                    size = rng.randint(64 * 1024, 4 * 1048576)
                    start = rng.randrange(0, len(pool) - size + 1)
                    pushed[0] += size
                mine.append(_oneClient(address, pool[start : start + size]))

        started = time.monotonic()
        with ThreadPoolExecutor(clients + 1) as executor:
            killing = executor.submit(killer)
            workers = [executor.submit(worker, killing) for _ in range(clients)]
            results = [r for w in workers for r in w.result()]
            done = killing.result()
        fresh = [transfer(address, pool[:65536], timeout=10) for _ in range(20)]
        duration = time.monotonic() - started
        after = afterwards(process, before)
        tracebacks = lines(process, r"Traceback")
    complete = sum(1 for size, r, ok in results if r.error is None and len(r.received) == size)
    cut = sum(1 for size, r, ok in results if ok and r.error != "hung" and len(r.received) < size)
    corrupt = [r for size, r, ok in results if not ok]
    hung = [r for size, r, ok in results if r.error == "hung"]
    pushed = sum(size for size, r, ok in results)
    lost = sum(size - len(r.received) for size, r, ok in results if r.error is None and not ok)
    problems = []
    check(problems, not corrupt, f"{len(corrupt)} connections got corrupted bytes")
    check(problems, not hung, f"{len(hung)} connections hung")
    failedAfter = [r for r in fresh if r.error is not None or r.received != pool[:65536]]
    check(problems, not failedAfter, f"{len(failedAfter)} of 20 new connections failed after the kills")
    check(problems, not tracebacks, f"txlb logged {tracebacks} tracebacks")
    checkReleased(problems, before, after)
    return Outcome(
        name,
        f"{len(results)} connections from {clients} clients, {pushed / 1048576:.0f} MiB "
        f"echoed over 3 backends, {done} kills with restarts, {duration:.0f} s",
        f"{complete} byte-identical, {cut} cut visibly (exact prefix) by a kill, "
        f"{len(corrupt)} corrupted, {len(hung)} hung; 20/20 new connections "
        f"{'fine' if not failedAfter else 'NOT fine'} afterwards",
        bytesLost=lost,
        failed=len(corrupt) + len(hung) + len(failedAfter),
        rss=(before[0], after[0]),
        fds=(before[1], after[1]),
        problems=problems,
    )
