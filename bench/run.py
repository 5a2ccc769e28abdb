"""
The side-by-side benchmark: direct to nginx, HAProxy (TCP mode, one
thread) and txlb (CPython, and PyPy when it can run txlb), on loopback.

    python bench/run.py [--short] [--repeat N] [--duration S] [--no-write]
    python bench/run.py --routing [--repeat N] [--duration S] [--no-write]

Each proxy is pinned to core 0 and wrk to core 1. Prints a table with the
median of the repetitions, the spread (min-max) and txlb's ratio to
HAProxy, and writes it into doc/performance.rst (unless --no-write).

With --routing it measures instead what routing costs: new connections/s
through txlb without routes and with a route on the TLS server name (which
makes txlb read each client's ClientHello before it connects), for TLS
clients (handshake end to end with nginx) and plain ones, and writes the
table into doc/routing.rst.
"""

import argparse
import os
import platform
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOC = os.path.join(ROOT, "doc", "performance.rst")
ROUTING_DOC = os.path.join(ROOT, "doc", "routing.rst")
BEGIN, END = ".. begin-results", ".. end-results"
PYPY_VENV = os.path.expanduser("~/.cache/txlb-bench/pypy")


def freePort():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def waitForPort(port, process, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listened on {port} within {timeout} s")


def stop(process):
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Nginx:
    """
    The backend: one nginx worker serving a small page and a 1 MiB file.
    """

    def __init__(self, directory, tls=False):
        self.port = freePort()
        self.tlsPort = freePort() if tls else None
        www = os.path.join(directory, "www")
        os.makedirs(www)
        with open(os.path.join(www, "small.html"), "wb") as f:
            f.write(b"x" * 100)
        with open(os.path.join(www, "bulk.bin"), "wb") as f:
            f.write(os.urandom(1 << 20))
        conf = os.path.join(directory, "nginx.conf")
        with open(conf, "w") as f:
            f.write(f"""
daemon off; master_process off; worker_processes 1;
pid {directory}/nginx.pid; error_log {directory}/nginx-error.log;
worker_rlimit_nofile 65536;
events {{ worker_connections 20000; }}
http {{
  access_log off; sendfile on; tcp_nopush on; keepalive_requests 1000000;
  client_body_temp_path {directory}; proxy_temp_path {directory};
  fastcgi_temp_path {directory}; uwsgi_temp_path {directory}; scgi_temp_path {directory};
  server {{ listen 127.0.0.1:{self.port} backlog=4096; root {www}; }}
  {self._tlsServer(directory, www)}
}}
""")
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        self.process = subprocess.Popen([nginx, "-c", conf, "-p", directory],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        waitForPort(self.port, self.process)

    def _tlsServer(self, directory, www):
        if self.tlsPort is None:
            return ""
        key, cert = selfSigned(directory)
        return (f"server {{ listen 127.0.0.1:{self.tlsPort} ssl backlog=4096; root {www}; "
                f"ssl_certificate {cert}; ssl_certificate_key {key}; ssl_session_cache off; "
                f"ssl_session_tickets off; }}")


def selfSigned(directory):
    """
    A key and a self-signed certificate for 127.0.0.1 in C{directory}.
    """
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    keyPath, certPath = os.path.join(directory, "key.pem"), os.path.join(directory, "cert.pem")
    with open(keyPath, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    with open(certPath, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    return keyPath, certPath


def haproxy(directory, backend):
    port = freePort()
    conf = os.path.join(directory, "haproxy.cfg")
    with open(conf, "w") as f:
        f.write(f"""
global
  nbthread 1
  maxconn {(resource.getrlimit(resource.RLIMIT_NOFILE)[1] - 200) // 2}
defaults
  mode tcp
  timeout connect 5s
  timeout client 60s
  timeout server 60s
listen bench
  bind 127.0.0.1:{port}
  server nginx 127.0.0.1:{backend}
""")
    binary = shutil.which("haproxy") or "/usr/sbin/haproxy"
    process = subprocess.Popen(["taskset", "-c", "0", binary, "-f", conf, "-db"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    waitForPort(port, process)
    return port, process


def txlb(python, backend, directory, workers=1, extra=()):
    """
    txlb on core 0; with C{workers} > 1, on every core (the load shares
    one of them).
    """
    port = freePort()
    env = dict(os.environ, PYTHONPATH=ROOT)
    path = os.path.join(directory, f"txlb-{os.path.basename(python)}-{workers}-{port}.log")
    log = open(path, "w")
    cores = "0" if workers == 1 else f"0-{os.cpu_count() - 1}"
    process = subprocess.Popen(
        ["taskset", "-c", cores, python, "-c", "from twisted.scripts.twistd import run; run()",
         "-n", "--pidfile=", "--logfile=-", "txlb", "--workers", str(workers),
         "--listen", f"tcp:{port}:interface=127.0.0.1:backlog=4096",
         "--backend", f"127.0.0.1:{backend}", *extra],
        env=env, stdout=log, stderr=subprocess.STDOUT, cwd=directory,
    )
    waitForPort(port, process)
    deadline = time.monotonic() + 30
    while workers > 1 and time.monotonic() < deadline:
        with open(path) as f:
            if f.read().count(") is serving") >= workers - 1:
                break
        time.sleep(0.1)
    return port, process


def ceiling(python, backend):
    """
    bench/rawrelay.py on core 0: a featureless relay on raw sockets, what
    any relay in this Python pays at least.
    """
    port = freePort()
    process = subprocess.Popen(
        ["taskset", "-c", "0", python, os.path.join(ROOT, "bench", "rawrelay.py"), str(port), str(backend)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    waitForPort(port, process)
    return port, process


ROUTED_TAC = """
from txlb.config import Balancer, Group, Host, Route, Service
from txlb.tac import application

application = application(Balancer(services=[Service(
    "bench",
    listen=["tcp:{port}:interface=127.0.0.1:backlog=4096"],
    groups=[Group("plain", hosts=[Host("nginx", "127.0.0.1:{plain}")]),
            Group("tls", hosts=[Host("nginx-tls", "127.0.0.1:{tls}")])],
    routes=[Route("tls", sni="127.0.0.1")],
)]))
"""


def txlbRouted(python, nginx, directory):
    """
    txlb on core 0 with a route on the TLS server name (wrk sends the host
    of its URL, 127.0.0.1): TLS clients reach nginx's TLS port, plain
    clients its plain port.
    """
    port = freePort()
    tac = os.path.join(directory, f"routed-{port}.tac")
    with open(tac, "w") as f:
        f.write(ROUTED_TAC.format(port=port, plain=nginx.port, tls=nginx.tlsPort))
    log = open(os.path.join(directory, f"txlb-routed-{port}.log"), "w")
    process = subprocess.Popen(
        ["taskset", "-c", "0", python, "-c", "from twisted.scripts.twistd import run; run()",
         "-n", "--pidfile=", "--logfile=-", "txlb", "--config", tac],
        env=dict(os.environ, PYTHONPATH=ROOT), stdout=log, stderr=subprocess.STDOUT, cwd=directory,
    )
    waitForPort(port, process)
    return port, process


def routingMain(args):
    """
    New connections/s through txlb without routes and with an SNI route,
    for TLS and plain clients; the table goes into doc/routing.rst.
    """
    directory = tempfile.mkdtemp(prefix="txlb-bench-routing-")
    processes = []
    results = {}
    try:
        nginx = Nginx(directory, tls=True)
        processes.append(nginx.process)
        plainPort, plain = txlb(sys.executable, nginx.port, directory)
        tlsPort, tls = txlb(sys.executable, nginx.tlsPort, directory)
        routedPort, routed = txlbRouted(sys.executable, nginx, directory)
        processes += [plain, tls, routed]
        rows = [
            ("TLS new connections/s", "https", [("direct", nginx.tlsPort), ("txlb", tlsPort),
                                                ("txlb + SNI route", routedPort)]),
            ("plain new connections/s", "http", [("direct", nginx.port), ("txlb", plainPort),
                                                 ("txlb + SNI route", routedPort)]),
        ]
        for title, scheme, targets in rows:
            for label, port in targets:
                runs = []
                for _ in range(args.repeat):
                    runs.append(wrkURL(f"{scheme}://127.0.0.1:{port}/small.html", args.duration))
                results[title, label] = runs
                print(f"  {title:<26} {label:<18} {', '.join(fmt(r, 'newconn') for r in runs)}", flush=True)
    finally:
        for process in reversed(processes):
            stop(process)
        shutil.rmtree(directory, ignore_errors=True)
    labels = ["direct", "txlb", "txlb + SNI route"]
    header = ["workload"] + labels + ["SNI route / txlb"]
    lines = []
    for title in ("TLS new connections/s", "plain new connections/s"):
        medians = [statistics.median(results[title, l]) for l in labels]
        spread = [f" ({fmt(min(results[title, l]), 'newconn')}-{fmt(max(results[title, l]), 'newconn')})"
                  if len(results[title, l]) > 1 else "" for l in labels]
        lines.append([title] + [fmt(m, "newconn") + s for m, s in zip(medians, spread)]
                     + [f"{medians[2] / medians[1]:.2f}x"])
    widths = [max(len(r[i]) for r in [header] + lines) for i in range(len(header))]
    rule = "  ".join("=" * w for w in widths)
    table = "\n".join([rule, "  ".join(h.ljust(w) for h, w in zip(header, widths)), rule]
                      + ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in lines] + [rule])
    notes = [parseCost()]
    print()
    print(table)
    print(notes[0])
    if not args.no_write:
        write(table, notes, args, ROUTING_DOC)


def parseCost():
    """
    A sentence with the CPU time of reading one ClientHello and routing on
    it, in this process (no network, so far less noisy than the table).
    """
    import ssl
    import timeit

    sys.path.insert(0, ROOT)
    from twisted.internet.address import IPv4Address
    from twisted.internet.task import Clock

    from txlb.clienthello import HelloReader
    from txlb.routing import Connection, Route, Routing

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    context.set_alpn_protocols(["h2", "http/1.1"])
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = context.wrap_bio(incoming, outgoing, server_hostname="shop.example.com")
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    hello = outgoing.read()
    routing = Routing("bench", ["www", "shop"], Clock(), [Route("shop", sni="*.example.com")])
    peer = IPv4Address("TCP", "10.0.0.1", 40000)
    count = 20000
    parse = min(timeit.repeat(lambda: HelloReader().feed(hello), number=count, repeat=3)) / count
    parsed = HelloReader().feed(hello)
    route = min(timeit.repeat(lambda: routing.choose(Connection.of(peer, "tcp:443", parsed)),
                              number=count, repeat=3)) / count
    return (f"Reading one ClientHello ({len(hello)} bytes, from Python's ssl) takes {parse * 1e6:.1f} us of "
            f"CPU and choosing its route {route * 1e6:.1f} us (CPython {platform.python_version()}, best of "
            f"3 x {count:,}).")


def wrkURL(url, duration):
    """
    New connections/s (one request per connection) for C{url}, wrk on core 1.
    """
    ran = subprocess.run(["taskset", "-c", "1", "wrk", "-t1", "-c50", f"-d{duration:g}s",
                          "-H", "Connection: close", url], capture_output=True, text=True)
    found = re.search(r"Requests/sec:\s+([\d.]+)", ran.stdout)
    if found is None:
        raise SystemExit(f"wrk gave no result: {(ran.stdout + ran.stderr).strip()[:300]}")
    return float(found.group(1))


#: What txlb needs installed (setup.cfg's install_requires).
REQUIREMENTS = ["twisted", "service-identity", "pyOpenSSL", "pem", "zope.interface", "attrs",
                "prometheus-client", "defusedxml", "treq",
                # Debian's pypy3 is 3.9: the newest cryptography with a PyPy 3.9
                # wheel is 42, which pyOpenSSL 24.2 and older accept.
                "cryptography<43", "pyOpenSSL<24.3"]


def pypy():
    """
    A PyPy interpreter that can run txlb, or (None, why not).
    """
    if not shutil.which("pypy3"):
        return None, "pypy3 is not installed (apt-get install pypy3)"
    env = dict(os.environ, PYTHONPATH=ROOT)

    def canRun(python):
        # Everything twistd txlb imports at start, txlb's dependencies included.
        return os.path.exists(python) and subprocess.run(
            [python, "-c", "import txlb.tap"], capture_output=True, env=env
        ).returncode == 0

    for python in (shutil.which("pypy3"), os.path.join(PYPY_VENV, "bin", "pypy3")):
        if canRun(python):
            return python, None
    python = os.path.join(PYPY_VENV, "bin", "pypy3")
    if not os.path.exists(python):
        made = subprocess.run(["pypy3", "-m", "venv", PYPY_VENV], capture_output=True, text=True)
        if made.returncode != 0:
            return None, "pypy3 -m venv failed: " + (made.stderr.strip().splitlines() or ["?"])[-1]
    installed = subprocess.run([python, "-m", "pip", "install", "-q", *REQUIREMENTS], capture_output=True, text=True)
    if installed.returncode != 0 or not canRun(python):
        return None, "pip for pypy3 failed: " + (installed.stderr.strip().splitlines() or ["?"])[-1]
    return python, None


#: New connections a second while latency is measured: a moderate load.
LATENCY_RATE = 500

_PROBE = """
import socket, sys, time
port, rate, duration = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
request = b"GET /small.html HTTP/1.0\\r\\nHost: bench\\r\\n\\r\\n"
times, start = [], time.monotonic()
n = 0
while time.monotonic() - start < duration:
    due = start + n / rate
    now = time.monotonic()
    if due > now:
        time.sleep(due - now)
    began = time.monotonic()
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(request)
        while s.recv(65536):
            pass
    times.append(time.monotonic() - began)
    n += 1
times.sort()
print(times[len(times) // 2] * 1000, times[min(len(times) - 1, int(len(times) * 0.99))] * 1000)
"""


def latency(port, duration):
    """
    p50 and p99 of connect-to-complete-reply (ms) for new connections made
    at L{LATENCY_RATE} a second, one at a time, from core 1.
    """
    ran = subprocess.run(["taskset", "-c", "1", sys.executable, "-c", _PROBE, str(port), str(LATENCY_RATE),
                          str(duration)], capture_output=True, text=True)
    p50, p99 = (float(x) for x in ran.stdout.split())
    return {"p50": p50, "p99": p99}


def wrk(port, path, duration, connections, close):
    args = ["taskset", "-c", "1", "wrk", "-t1", f"-c{connections}", f"-d{duration:g}s"]
    if close:
        args += ["-H", "Connection: close"]
    ran = subprocess.run(args + [f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True)
    out = ran.stdout
    found = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if found is None:
        raise SystemExit(f"wrk gave no result: {(out + ran.stderr).strip()[:300]}")
    requests = float(found.group(1))
    transfer = re.search(r"Transfer/sec:\s+([\d.]+)(\w+)", out)
    scale = {"B": 1 / 1e6, "KB": 1024 / 1e6, "MB": 1024**2 / 1e6, "GB": 1024**3 / 1e6}[transfer.group(2)]
    return requests, float(transfer.group(1)) * scale


def rss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def descriptors(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def idleMemory(port, process, count):
    """
    Hold C{count} idle connections through the proxy; return its RSS
    growth per connection in KiB.
    """
    before, fds = rss(process.pid), descriptors(process.pid)
    held = []
    try:
        for _ in range(count):
            held.append(socket.create_connection(("127.0.0.1", port)))
        deadline = time.monotonic() + 30
        while descriptors(process.pid) < fds + 2 * count and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)
        return (rss(process.pid) - before) / count / 1024
    finally:
        for s in held:
            s.close()


def freshIdle(start, count):
    """
    Idle memory measured on a new instance, so that nothing allocated by
    earlier workloads hides the cost.
    """
    port, process = start()
    try:
        socket.create_connection(("127.0.0.1", port)).close()
        time.sleep(0.5)
        return idleMemory(port, process, count)
    finally:
        stop(process)


WORKLOADS = [
    ("new connections/s", "newconn"),
    ("keep-alive requests/s", "keepalive"),
    ("bulk MB/s (1 MiB responses)", "bulk"),
    (f"connect+reply p50 ms at {LATENCY_RATE}/s", "p50"),
    (f"connect+reply p99 ms at {LATENCY_RATE}/s", "p99"),
    ("KiB per idle connection", "idle"),
]


def cpuSeconds(pid):
    """
    The CPU time (user and system) process C{pid} has used, in seconds.
    """
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


#: CPU microseconds per connection of each new-connection run, by process.
CPU_PER_CONNECTION = {}


def measure(kind, port, process, duration, idleCount):
    if kind in ("p50", "p99"):
        return latency(port, duration)[kind]
    if kind == "newconn":
        before = cpuSeconds(process.pid) if process is not None else None
        rate = wrk(port, "/small.html", duration, 50, True)[0]
        if before is not None and rate:
            used = cpuSeconds(process.pid) - before
            CPU_PER_CONNECTION.setdefault(process.pid, []).append(used / (rate * duration) * 1e6)
        return rate
    if kind == "keepalive":
        return wrk(port, "/small.html", duration, 50, False)[0]
    return wrk(port, "/bulk.bin", duration, 10, False)[1]


def machine():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    def version(args):
        try:
            out = subprocess.run(args, capture_output=True, text=True)
            return (out.stdout + out.stderr).strip().splitlines()[0]
        except (OSError, IndexError):
            return "?"
    return [
        f"{os.cpu_count()} cores, {cpu}; Linux {platform.release()}",
        f"CPython {platform.python_version()}; {version(['haproxy', '-v'])}; "
        f"{version(['nginx', '-v'])}; {version(['wrk', '--version'])[:40]}",
    ]


def fmt(value, kind):
    if value is None:
        return "n/a"
    if kind in ("p50", "p99"):
        return f"{value:.2f}"
    return f"{value:,.1f}" if kind in ("bulk", "idle") else f"{value:,.0f}"


def main(argv=None):
    parser = argparse.ArgumentParser(description="txlb beside HAProxy and direct nginx.")
    parser.add_argument("--short", action="store_true", help="one 2 s repetition, 500 idle connections")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--idle", type=int, default=5000, help="idle connections held")
    parser.add_argument("--no-write", action="store_true", help="do not update doc/performance.rst")
    parser.add_argument("--no-pypy", action="store_true")
    parser.add_argument("--no-ceiling", action="store_true", help="leave out the raw relay (bench/rawrelay.py)")
    parser.add_argument("--workers", type=int, default=2, help="also measure txlb --workers N (1: do not)")
    parser.add_argument("--only", action="append", choices=[k for _, k in WORKLOADS],
                        help="measure only this workload (repeatable)")
    parser.add_argument("--access-log", action="store_true",
                        help="also measure txlb writing a JSON access log (column txlb-alog)")
    parser.add_argument("--routing", action="store_true",
                        help="measure the cost of an SNI route instead (writes doc/routing.rst)")
    args = parser.parse_args(argv)
    if args.short:
        args.repeat, args.duration, args.idle = 1, 2, 500
    subprocess.run(["bash", os.path.join(ROOT, "bench", "setup.sh")], check=True)
    if args.routing:
        routingMain(args)
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    args.idle = min(args.idle, (hard - 100) // 3)
    directory = tempfile.mkdtemp(prefix="txlb-bench-")
    processes = []
    try:
        backend = Nginx(directory)
        processes.append(backend.process)
        starters = [
            ("haproxy", lambda: haproxy(directory, backend.port)),
            ("txlb", lambda: txlb(sys.executable, backend.port, directory)),
            ("txlb-twisted", lambda: txlb(sys.executable, backend.port, directory, extra=["--no-lean"])),
        ]
        if not args.no_ceiling:
            starters.insert(1, ("ceiling", lambda: ceiling(sys.executable, backend.port)))
        notes = []
        if args.access_log:
            accessLog = ["--access-log", os.path.join(directory, "access.log"), "--access-log-format", "json"]
            starters.append(("txlb-alog",
                             lambda: txlb(sys.executable, backend.port, directory, extra=accessLog)))
        if args.workers > 1:
            starters.append((f"txlb-w{args.workers}",
                             lambda: txlb(sys.executable, backend.port, directory, args.workers)))
        if not args.no_pypy:
            python, why = pypy()
            if python:
                starters.append(("txlb-pypy", lambda: txlb(python, backend.port, directory)))
            else:
                notes.append(f"txlb on PyPy: not measured ({why}).")
        targets = [("direct", backend.port, None)]
        for label, start in starters:
            port, process = start()
            processes.append(process)
            targets.append((label, port, process))
        results = {}
        for _, kind in WORKLOADS:
            if args.only and kind not in args.only:
                continue
            for label, port, process in targets:
                results[label, kind] = []
                if kind == "idle":
                    skip = process is None or label.startswith("txlb-w") or label == "txlb-alog"
                    results[label, kind] = [] if skip else [freshIdle(dict(starters)[label], args.idle)]
                elif label == "txlb-pypy" and kind == "newconn":
                    # PyPy's JIT warms up: the first run is reported apart
                    # (cold), the repetitions after it (warm) in the table.
                    cold = measure(kind, port, process, args.duration, args.idle)
                    notes.append(f"txlb on PyPy, new connections/s: {fmt(cold, kind)} in its first "
                                 f"{args.duration:g} s (cold); the table gives the runs after it (warm).")
            # Repetitions take turns across the targets, so that a change in
            # the machine's load (a shared machine) hits every column alike.
            for _ in range(args.repeat if kind != "idle" else 0):
                for label, port, process in targets:
                    results[label, kind].append(measure(kind, port, process, args.duration, args.idle))
            for label, _, _ in targets:
                print(f"  {kind:<10} {label:<10} {', '.join(fmt(r, kind) for r in results[label, kind])}",
                      flush=True)
    finally:
        for process in reversed(processes):
            stop(process)
        shutil.rmtree(directory, ignore_errors=True)
    scaled = results.get((f"txlb-w{args.workers}", "newconn"))
    if scaled and results.get(("txlb", "newconn")):
        ratio = statistics.median(scaled) / statistics.median(results["txlb", "newconn"])
        notes.insert(0, f"Scaling: twistd txlb --workers {args.workers} makes {ratio:.2f}x the new connections/s of one "
                        f"worker (the workers run on all {os.cpu_count()} cores, sharing one with wrk).")
    logged = results.get(("txlb-alog", "newconn"))
    if logged and results.get(("txlb", "newconn")):
        ratio = statistics.median(logged) / statistics.median(results["txlb", "newconn"])
        processes = {label: process for label, _, process in targets}
        cpu = [statistics.median(CPU_PER_CONNECTION.get(processes[label].pid) or [0])
               for label in ("txlb", "txlb-alog")]
        notes.insert(0, f"Access log: txlb writing a JSON access log makes {ratio:.3f}x the new "
                        f"connections/s of txlb without one ({(ratio - 1) * 100:+.1f} %); CPU time per "
                        f"connection {cpu[0]:.0f} us without, {cpu[1]:.0f} us with it"
                        + (f" ({(cpu[1] / cpu[0] - 1) * 100:+.1f} %)." if cpu[0] else "."))
    table = render(targets, results, args)
    print()
    print(table)
    for note in notes:
        print(note)
    if not args.no_write:
        write(table, notes, args)


def render(targets, results, args):
    labels = [t[0] for t in targets]
    compared = [l for l in labels if l.startswith("txlb") or l == "ceiling"]
    header = ["workload"] + labels + [f"{l} / haproxy" for l in compared]
    rows = []
    for title, kind in WORKLOADS:
        row = [title]
        medians = {}
        for label in labels:
            runs = results.get((label, kind)) or []
            if not runs:
                row.append("n/a")
                continue
            medians[label] = statistics.median(runs)
            spread = f" ({fmt(min(runs), kind)}-{fmt(max(runs), kind)})" if len(runs) > 1 else ""
            row.append(fmt(medians[label], kind) + spread)
        for label in compared:
            if label in medians and medians.get("haproxy"):
                row.append(f"{medians[label] / medians['haproxy']:.2f}x")
            else:
                row.append("n/a")
        rows.append(row)
    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
    rule = "  ".join("=" * w for w in widths)
    lines = [rule, "  ".join(h.ljust(w) for h, w in zip(header, widths)), rule]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    lines.append(rule)
    return "\n".join(lines)


def write(table, notes, args, doc=DOC):
    with open(doc) as f:
        text = f.read()
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{doc} has no {BEGIN} / {END} markers")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    mode = "short mode: 1 repetition of 2 s" if args.short else (
        f"median of {args.repeat} repetitions of {args.duration:g} s (min-max in brackets)")
    idle = f", {args.idle} idle connections" if doc == DOC else ""
    body = [BEGIN, "", f"Run on {time.strftime('%Y-%m-%d')}, {mode}{idle}.",
            "Machine: " + "; ".join(machine()) + ".", "", table, ""]
    body += [n for n in notes] + ([""] if notes else []) + [END]
    with open(doc, "w") as f:
        f.write(head + "\n".join(body) + tail)


if __name__ == "__main__":
    main()
