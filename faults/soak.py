"""
Soak: mixed load for a set time (60 s, or an hour with C{long}) while
txlb's RSS and open descriptors are sampled once a second; both must stay
flat (the last fifth of the samples no higher than the second fifth plus
a small margin).
"""

import os
import statistics
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

from faults._clients import transfer
from faults._outcome import Outcome, check, checkReleased
from faults._processes import BackendProcess, afterwards, quickStart, startBalancer, usage

NAME = "soak"
RSS_MARGIN = 4 * 1048576


def run(long=False, seconds=None):
    """
    Paced small requests and 1 MiB transfers for C{seconds}.
    """
    seconds = seconds or (3600 if long else 60)
    small, large = os.urandom(512), os.urandom(1048576)
    with ExitStack() as stack:
        backends = [BackendProcess(stack, "echo") for _ in range(2)]
        process, address = startBalancer(stack, quickStart(backends))
        # Warm up first: the baseline is txlb having served something.
        for _ in range(10):
            transfer(address, small, timeout=10)
        before = usage(process)
        stop = threading.Event()
        samples = []

        def sampler():
            while not stop.wait(1.0):
                samples.append(usage(process))

        def worker(payload, pause):
            count = bad = 0
            while not stop.is_set():
                result = transfer(address, payload, timeout=10)
                count, bad = count + 1, bad + (result.received != payload)
                # Paced, so that TIME_WAIT sockets do not use up local ports.
                stop.wait(pause)
            return count, bad

        kinds = [(small, 0.05)] * 2 + [(large, 0.1)]
        with ThreadPoolExecutor(len(kinds) + 1) as executor:
            executor.submit(sampler)
            futures = [executor.submit(worker, p, h) for p, h in kinds]
            stop.wait(seconds)
            stop.set()
            done = [f.result() for f in futures]
        after = afterwards(process, before)
    fifth = max(1, len(samples) // 5)
    early, late = samples[fifth : 2 * fifth], samples[-fifth:]
    rssEarly = statistics.median(r for r, f in early)
    rssLate = statistics.median(r for r, f in late)
    fdsLate = max(f for r, f in late)
    connections = sum(c for c, b in done)
    failed = sum(b for c, b in done)
    problems = []
    check(problems, not failed, f"{failed} connections failed")
    check(problems, rssLate <= rssEarly + RSS_MARGIN, f"RSS grew {rssEarly} -> {rssLate}")
    # Each client has at most one connection open: two sockets, and two
    # pipes (four descriptors) while a large transfer is spliced.
    check(problems, fdsLate <= before[1] + 6 * len(kinds) + 2, f"{fdsLate} descriptors late on")
    checkReleased(problems, before, after)
    return Outcome(
        NAME,
        f"{seconds} s of mixed load over 2 backends: 2 clients echoing 512 B requests, "
        f"1 echoing 1 MiB; {len(samples)} samples, {connections} connections",
        f"RSS median {rssEarly / 1048576:.1f} MiB in the 2nd fifth, "
        f"{rssLate / 1048576:.1f} MiB in the last; descriptors at most {fdsLate} "
        "late on: flat",
        bytesLost=0 if not failed else None,
        failed=failed,
        rss=(before[0], after[0]),
        fds=(before[1], after[1]),
        problems=problems,
    )
