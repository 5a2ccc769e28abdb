"""
Resets are never hidden: a backend that resets its connection mid-reply is
seen by the client as a reset, not as a reply that ended cleanly, and a
client's reset reaches the backend as a reset; on the lean path (the
default), on Twisted's transports (C{--no-lean}) and on the zero-copy path.
"""

import socket
import struct
import threading
from contextlib import ExitStack

from faults._clients import settle
from faults._outcome import Outcome, check, checkReleased
from faults._processes import afterwards, startBalancer, usage

NAME = "resets relayed as resets"
REPLY = 256 * 1024
_LINGER = struct.pack("ii", 1, 0)


class _Backend:
    """
    A backend on a thread: for a client that sends C{"cut"} it sends
    C{REPLY} bytes and resets; otherwise it reads until the end and
    records whether that end was a reset.
    """

    def __init__(self, stack):
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(256)
        self.address = "127.0.0.1:%d" % self.server.getsockname()[1]
        self.ends = []
        self.lock = threading.Lock()
        self.running = True
        threading.Thread(target=self._serve, daemon=True).start()
        stack.callback(self.stop)

    def stop(self):
        self.running = False
        self.server.close()

    def _serve(self):
        while self.running:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn):
        with conn:
            try:
                first = conn.recv(3)
                if first == b"cut":
                    conn.sendall(b"r" * REPLY)
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER)
                    return
                while conn.recv(65536):
                    pass
                end = "eof"
            except ConnectionResetError:
                end = "reset"
            except OSError:
                end = "error"
        with self.lock:
            self.ends.append(end)


def _clientSeesReset(address):
    with socket.create_connection(address, timeout=10) as s:
        s.sendall(b"cut")
        try:
            while s.recv(65536):
                pass
        except ConnectionResetError:
            return True
        return False


def _clientResets(address):
    s = socket.create_connection(address, timeout=10)
    s.sendall(b"hello, then a reset")
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER)
    s.close()


def run(long=False):
    """
    On each path, 20 (200 with C{long}) replies cut by the backend's reset
    and 20 (200) clients that reset.
    """
    count = 200 if long else 20
    paths = [("lean", []), ("Twisted", ["--no-lean"]), ("Twisted, no splice", ["--no-lean", "--no-splice"])]
    problems = []
    seen = []
    rss, fds = [], []
    for label, flags in paths:
        with ExitStack() as stack:
            backend = _Backend(stack)
            process, address = startBalancer(stack, ["--listen", "tcp:0:interface=127.0.0.1",
                                                     "--backend", backend.address, *flags])
            before = usage(process)
            resets = sum(_clientSeesReset(address) for _ in range(count))
            for _ in range(count):
                _clientResets(address)
            settle(lambda: len(backend.ends), lambda n: n >= count, 10)
            backendResets = backend.ends.count("reset")
            after = afterwards(process, before)
            rss.append((before[0], after[0]))
            fds.append((before[1], after[1]))
            check(problems, resets == count, f"{label}: {count - resets} of {count} cut replies ended cleanly")
            check(problems, backendResets == count,
                  f"{label}: {count - backendResets} of {count} client resets reached the backend as a clean end")
            checkReleased(problems, before, after)
            seen.append(f"{label}: {resets}/{count} cut replies seen as resets, {backendResets}/{count} "
                        "client resets seen by the backend as resets")
    return Outcome(
        NAME,
        f"on the lean path, Twisted's transports and without splice: {count} replies of 256 KiB cut "
        f"by a backend's reset (SO_LINGER 0), and {count} clients that reset after sending",
        "; ".join(seen),
        failed=sum(1 for p in problems if "of" in p),
        rss=rss[-1],
        fds=fds[-1],
        problems=problems,
    )
