"""
A real etcd cluster of one or three members on 127.0.0.1 for tests, in a
temporary directory, on ports the OS chose; members can be killed and
started again; everything is stopped at the test's cleanup.
"""

import json
import shutil
import socket
import tempfile
import urllib.request

from tests.support import Process

ETCD = shutil.which("etcd")
#: Why the etcd tests are skipped, or None.
SKIP = None if ETCD else "etcd is not installed (Debian: apt-get install etcd-server)"
READY = r"ready to serve client requests"


def freePorts(count):
    """
    C{count} distinct ports the OS gave (bound together, then closed).
    """
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


class Cluster:
    """
    etcd members C{m0}, C{m1}, ...; C{urls} are their client URLs.
    """

    def __init__(self, testCase, size=1):
        self.directory = tempfile.mkdtemp(prefix="txlb-etcd-")
        testCase.addCleanup(shutil.rmtree, self.directory, True)
        testCase.addCleanup(self.stop)
        ports = freePorts(2 * size)
        self.names = [f"m{i}" for i in range(size)]
        self.urls = [f"http://127.0.0.1:{ports[2 * i]}" for i in range(size)]
        self.peers = [f"http://127.0.0.1:{ports[2 * i + 1]}" for i in range(size)]
        self.processes = [None] * size
        for i in range(size):
            self.start(i, wait=False)
        for i in range(size):
            self.processes[i].waitFor(READY, timeout=30)

    @property
    def endpoints(self):
        """
        Every client URL, as C{--etcd} takes them.
        """
        return ",".join(self.urls)

    def start(self, i, wait=True):
        """
        Start member C{i} (again, on its data).
        """
        cluster = ",".join(f"{n}={p}" for n, p in zip(self.names, self.peers))
        self.processes[i] = Process([
            ETCD, "--name", self.names[i], "--data-dir", f"{self.directory}/{self.names[i]}",
            "--listen-client-urls", self.urls[i], "--advertise-client-urls", self.urls[i],
            "--listen-peer-urls", self.peers[i], "--initial-advertise-peer-urls", self.peers[i],
            "--initial-cluster", cluster, "--initial-cluster-token", "txlb-test",
            "--heartbeat-interval", "50", "--election-timeout", "500",
        ])
        if wait:
            self.processes[i].waitFor(READY, timeout=30)

    def kill(self, i):
        """
        SIGKILL member C{i}.
        """
        process = self.processes[i]
        if process is not None and process.popen.poll() is None:
            process.popen.kill()
            process.wait()

    def stop(self):
        """
        Stop every member.
        """
        for process in self.processes:
            if process is not None:
                process.stop()

    def call(self, path, body, member=None):
        """
        One gateway call, from the test (blocking), on the first member
        that answers (or C{member}).
        """
        urls = [self.urls[member]] if member is not None else self.urls
        error = None
        for url in urls:
            try:
                request = urllib.request.Request(url + path, json.dumps(body).encode(), method="POST")
                with urllib.request.urlopen(request, timeout=5) as answer:
                    return json.loads(answer.read())
            except OSError as e:
                error = e
        raise error
