"""
Helpers for integration tests: real C{twistd} processes and real backends
on 127.0.0.1, with ports chosen by the OS, waited for by what they log
(never by sleeping), and always cleaned up.
"""

import base64
import http.client
import os
import queue
import re
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LISTENING = re.compile(r"service (\S+) listening on (\S+) ")
TWISTD = [sys.executable, "-c", "from twisted.scripts.twistd import run; run()"]
TXLB = [sys.executable, "-c", "import sys; from txlb.cli import main; sys.exit(main())"]


def environment(path=()):
    """
    The environment for child processes: this checkout (then C{path}) first
    on the Python path.
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([ROOT, *path, env.get("PYTHONPATH", "")])
    env["PYTHONUNBUFFERED"] = "1"
    return env


class Process:
    """
    A child process whose output lines are collected as they come.
    """

    def __init__(self, argv, cwd=None, stdin=None, path=()):
        self.argv = argv
        self.lines = []
        self._new = queue.Queue()
        self.popen = subprocess.Popen(
            argv,
            cwd=cwd or ROOT,
            env=environment(path),
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        if stdin is not None:
            self.popen.stdin.write(stdin)
            self.popen.stdin.close()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for raw in self.popen.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            self.lines.append(line)
            self._new.put(line)
        self._new.put(None)

    @property
    def output(self):
        return "\n".join(self.lines)

    def waitFor(self, pattern, timeout=20.0, count=1):
        """
        Wait until C{count} output lines (all so far, not only new ones)
        match C{pattern}; return the matches.

        @raise AssertionError: when the process exits or time runs out first.
        """
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            found = [m for m in map(regex.search, list(self.lines)) if m]
            if len(found) >= count:
                return found
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"timed out waiting for {pattern!r}; output:\n{self.output}")
            try:
                line = self._new.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None and self.popen.poll() is not None:
                found = [m for m in map(regex.search, list(self.lines)) if m]
                if len(found) >= count:
                    return found
                raise AssertionError(
                    f"process exited ({self.popen.returncode}) before {pattern!r}; "
                    f"output:\n{self.output}"
                )

    def wait(self, timeout=20.0):
        """
        Wait for the process to exit; return its exit status.
        """
        code = self.popen.wait(timeout)
        self._reader.join(timeout)
        return code

    def stop(self, timeout=15.0):
        """
        SIGTERM, then SIGKILL if it does not exit in time; return the status.
        """
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout)
        self._reader.join(timeout)
        return self.popen.returncode


class Twistd(Process):
    """
    C{twistd -n} with the given arguments, logging to stdout, no pid file.
    """

    def __init__(self, args, cwd=None, path=()):
        Process.__init__(
            self, TWISTD + ["-n", "--pidfile=", "--logfile=-"] + list(args), cwd, path=path
        )

    def address(self, service="default", timeout=20.0):
        """
        Wait until C{service} logs that it listens; return C{(host, port)},
        or the path of a UNIX socket.
        """
        match = self.waitFor(r"service %s listening on (\S+) " % re.escape(service), timeout)[0]
        address = match.group(1)
        if address.startswith("/"):
            return address
        host, _, port = address.rpartition(":")
        return host.strip("[]"), int(port)


def startTwistd(testCase, args, service="default", path=()):
    """
    Start C{twistd -n ARGS} for C{testCase} (stopped at its cleanup) and
    wait until C{service} listens; return C{(process, (host, port))}.
    """
    process = Twistd(args, path=path)
    testCase.addCleanup(process.stop)
    return process, process.address(service)


class _Handler(socketserver.BaseRequestHandler):
    def handle(self):
        self.server.connections += 1
        self.server.behaviour(self.request, self.server)


class _Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


def echo(sock, server):
    """
    Send back everything received; after the client's EOF, close.
    """
    while True:
        data = sock.recv(65536)
        if not data:
            break
        sock.sendall(data)
    sock.shutdown(socket.SHUT_WR)


def name(sock, server):
    """
    Send the server's name and close.
    """
    sock.sendall(server.name.encode() + b"\n")
    sock.shutdown(socket.SHUT_WR)
    sock.recv(1)


def replyAfterEOF(sock, server):
    """
    Read until the client's EOF, then send back C{got N bytes} and close.
    """
    total = 0
    while True:
        data = sock.recv(65536)
        if not data:
            break
        total += len(data)
    sock.sendall(b"got %d bytes" % total)
    sock.shutdown(socket.SHUT_WR)


class Backend:
    """
    A real TCP backend on 127.0.0.1 in a thread of the test process.

    @ivar connections: how many connections it has accepted.
    """

    def __init__(self, behaviour=echo, name="backend", port=0):
        self.server = _Server(("127.0.0.1", port), _Handler)
        self.server.behaviour = behaviour
        self.server.name = name
        self.server.connections = 0
        self.name = name
        self.port = self.server.server_address[1]
        self.address = f"127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def connections(self):
        return self.server.connections

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def startBackend(testCase, behaviour=echo, name="backend", port=0):
    """
    Start a L{Backend} stopped at C{testCase}'s cleanup.
    """
    backend = Backend(behaviour, name, port)
    testCase.addCleanup(backend.stop)
    return backend


def deadAddress():
    """
    A 127.0.0.1 address where nothing listens (a port the OS gave and took back).
    """
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"127.0.0.1:{port}"


def request(address, payload=b"", timeout=10.0, shutdown=True, source=None):
    """
    Connect (from the IP address C{source} if given), send C{payload}, shut
    down the write side, read until EOF.
    """
    sourceAddress = (source, 0) if source else None
    with socket.create_connection(address, timeout=timeout, source_address=sourceAddress) as s:
        if payload:
            s.sendall(payload)
        if shutdown:
            s.shutdown(socket.SHUT_WR)
        chunks = []
        while True:
            data = s.recv(65536)
            if not data:
                return b"".join(chunks)
            chunks.append(data)


def rss(pid):
    """
    The resident set size of process C{pid}, in bytes.
    """
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise ValueError(f"no VmRSS for {pid}")


def temporaryFile(testCase, text, suffix=".tac"):
    """
    Write C{text} to a new file removed at C{testCase}'s cleanup; return its path.
    """
    import tempfile

    fd, path = tempfile.mkstemp(suffix=suffix)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    testCase.addCleanup(os.remove, path)
    return path


def selfSigned(testCase, name="localhost"):
    """
    A key and a self-signed certificate for C{name} (its common name and
    subject alternative name) in a directory removed at C{testCase}'s
    cleanup; return their paths.
    """
    import datetime
    import shutil
    import tempfile

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    directory = tempfile.mkdtemp()
    testCase.addCleanup(shutil.rmtree, directory, True)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    keyPath, certPath = os.path.join(directory, "key.pem"), os.path.join(directory, "cert.pem")
    with open(keyPath, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    with open(certPath, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    return keyPath, certPath


def ask(address, method="GET", path="/", body=None, headers=None, user=None, password=None, source=None):
    """
    One HTTP request (to an admin, most often); C{(status, headers, seconds)}, status
    None when the admin closed without answering.
    """
    headers = dict(headers or {})
    if user is not None:
        headers["Authorization"] = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    connection = http.client.HTTPConnection(*address, timeout=30, source_address=(source, 0) if source else None)
    started = time.monotonic()
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status, dict(response.getheaders()), time.monotonic() - started
    except (OSError, http.client.HTTPException):
        return None, {}, time.monotonic() - started
    finally:
        connection.close()
