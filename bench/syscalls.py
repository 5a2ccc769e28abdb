"""
System calls per proxied connection: HAProxy, txlb on Twisted's transports
(--no-lean) and txlb's lean path, each traced with ``strace -c -f`` while a
fixed number of short connections go through it (connect, send a line,
read the echo, close).

    python bench/syscalls.py [--connections N] [--no-write]

The table goes into doc/performance.rst between its syscall markers.
"""

import argparse
import os
import re
import shutil
import signal
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from run import ROOT, haproxy, stop, txlb  # noqa: E402

DOC = os.path.join(ROOT, "doc", "performance.rst")
BEGIN, END = ".. begin-syscalls", ".. end-syscalls"


class _Echo(socketserver.BaseRequestHandler):
    def handle(self):
        while True:
            data = self.request.recv(65536)
            if not data:
                return
            self.request.sendall(data)


class _Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024


def exchange(port, count):
    for _ in range(count):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"ping\n")
            got = b""
            while len(got) < 5:
                data = s.recv(64)
                if not data:
                    break
                got += data
            s.shutdown(socket.SHUT_WR)
            while s.recv(64):
                pass


def trace(pid, port, count, directory, label):
    exchange(port, 50)
    out = os.path.join(directory, f"strace-{label}.txt")
    tracer = subprocess.Popen(["strace", "-c", "-f", "-p", str(pid), "-o", out],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    exchange(port, count)
    time.sleep(0.5)
    tracer.send_signal(signal.SIGINT)
    tracer.wait(30)
    calls = {}
    with open(out) as f:
        for line in f:
            m = re.match(r"\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)\s*$", line)
            if m and m.group(2) != "total":
                calls[m.group(2)] = int(m.group(1)) / count
    return calls


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=2000)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    if not shutil.which("strace"):
        raise SystemExit("bench/syscalls.py needs strace (apt-get install strace)")
    directory = tempfile.mkdtemp(prefix="txlb-syscalls-")
    server = _Server(("127.0.0.1", 0), _Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    backend = server.server_address[1]
    results = {}
    try:
        for label, start in [
            ("haproxy", lambda: haproxy(directory, backend)),
            ("txlb-twisted", lambda: txlb(sys.executable, backend, directory, extra=["--no-lean"])),
            ("txlb", lambda: txlb(sys.executable, backend, directory)),
        ]:
            port, process = start()
            try:
                results[label] = trace(process.pid, port, args.connections, directory, label)
            finally:
                stop(process)
    finally:
        server.shutdown()
        shutil.rmtree(directory, ignore_errors=True)
    table = render(results)
    print(table)
    if not args.no_write:
        with open(DOC) as f:
            text = f.read()
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        body = f"{BEGIN}\n\n{args.connections} connections each, {time.strftime('%Y-%m-%d')}:\n\n{table}\n\n{END}"
        with open(DOC, "w") as f:
            f.write(head + body + tail)


def render(results):
    labels = list(results)
    names = sorted({n for calls in results.values() for n in calls},
                   key=lambda n: -max(calls.get(n, 0) for calls in results.values()))
    names = [n for n in names if max(results[l].get(n, 0) for l in labels) >= 0.05]
    rows = [[n] + [f"{results[l].get(n, 0):.1f}" for l in labels] for n in names]
    rows.append(["total"] + [f"{sum(results[l].values()):.1f}" for l in labels])
    header = ["system call per connection"] + labels
    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
    rule = "  ".join("=" * w for w in widths)
    lines = [rule, "  ".join(h.ljust(w) for h, w in zip(header, widths)), rule]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    lines.append(rule)
    return "\n".join(lines)


if __name__ == "__main__":
    main()
