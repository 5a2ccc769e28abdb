"""
Stop under load: on SIGTERM txlb stops accepting, lets open connections
finish up to its drain timeout, aborts what is left, and exits; no client
it accepted is reset before that.
"""

import os
import signal
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

from faults._clients import transfer
from faults._outcome import Outcome, check
from faults._processes import BackendProcess, quickStart, startBalancer, usage

NAME = "stop under load (SIGTERM)"
DRAIN = 3.0


def _paced(address, payload, started):
    """
    Echo C{payload} in 64 KiB steps spread over about a second.
    """
    s = socket.create_connection(address, timeout=10)
    started.release()
    got = bytearray()
    with s:
        for offset in range(0, len(payload), 65536):
            s.sendall(payload[offset : offset + 65536])
            time.sleep(1.0 / (len(payload) // 65536))
            while len(got) < offset + 65536:
                data = s.recv(65536)
                if not data:
                    return bytes(got), "closed early"
                got += data
        s.shutdown(socket.SHUT_WR)
        try:
            while True:
                data = s.recv(65536)
                if not data:
                    return bytes(got), None
                got += data
        except OSError:
            return bytes(got), "reset"


def run(long=False):
    """
    Ten clients each echo 1 MiB over about a second; SIGTERM arrives when
    all are connected; one more client holds a connection open and idle.
    """
    count = 10
    payload = os.urandom(1048576)
    with ExitStack() as stack:
        backend = BackendProcess(stack, "echo")
        process, address = startBalancer(
            stack, quickStart([backend], "--drain-timeout", str(DRAIN))
        )
        before = usage(process)
        straggler = socket.create_connection(address, timeout=10)
        stack.callback(straggler.close)
        started = threading.Semaphore(0)
        with ThreadPoolExecutor(count) as executor:
            futures = [executor.submit(_paced, address, payload, started) for _ in range(count)]
            for _ in range(count):
                started.acquire()
            straggler.sendall(b"x")
            straggler.recv(1)
            during = usage(process)
            signalled = time.monotonic()
            process.popen.send_signal(signal.SIGTERM)
            process.waitFor(r"stopped accepting; draining")
            refused = transfer(address, b"late", timeout=5).error == "refused"
            results = [f.result() for f in futures]
        straggler.settimeout(DRAIN + 5)
        try:
            cut = straggler.recv(1) == b""
            how = "closed"
        except OSError:
            cut, how = True, "reset"
        stragglerAfter = time.monotonic() - signalled
        code = process.wait(DRAIN + 10)
        exited = time.monotonic() - signalled
    intact = sum(got == payload and error is None for got, error in results)
    problems = []
    check(problems, intact == count, f"{count - intact} draining clients were cut or reset")
    check(problems, refused, "a new client was accepted after SIGTERM")
    check(problems, cut and stragglerAfter >= DRAIN - 0.1, "the idle client was cut before the drain timeout")
    # twistd ends by re-raising the signal that stopped it.
    check(problems, code in (0, -signal.SIGTERM), f"exit status {code}")
    check(problems, exited < DRAIN + 3, f"exit after {exited:.1f} s")
    return Outcome(
        NAME,
        f"SIGTERM while {count} clients each echo 1 MiB over about 1 s and one more "
        f"sits idle; --drain-timeout {DRAIN:g} (RSS and fds: before the load / at SIGTERM)",
        f"{intact}/{count} finished intact; new clients refused at once; the idle one "
        f"{how} after {stragglerAfter:.1f} s; exit status {code} after {exited:.1f} s",
        bytesLost=sum(len(payload) - len(got) for got, error in results),
        failed=count - intact,
        rss=(before[0], during[0]),
        fds=(before[1], during[1]),
        problems=problems,
    )
