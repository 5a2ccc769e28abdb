"""
PROXY protocol, access control and limits as users run them: real twistd
processes, real backends, clients on two loopback addresses (127.0.0.1
and 127.0.0.2).
"""

import socket
import time
import xmlrpc.client

from twisted.protocols.haproxy._v1parser import V1Parser
from twisted.protocols.haproxy._v2parser import V2Parser
from twisted.trial.unittest import SynchronousTestCase

from tests.support import echo, request, startBackend, startTwistd, temporaryFile
from tests.test_integration_admin import adminURL, fetch
from tests.test_integration_workers import serving
from txlb import proxyheader

LISTEN = ["--listen", "tcp:0:interface=127.0.0.1"]
PROXY_LISTEN = ["--listen", "haproxy:tcp:0:interface=127.0.0.1"]
ADMIN = ["--admin", "tcp:0:interface=127.0.0.1"]
OTHER = "127.0.0.2"


class Address:
    """
    An address as Twisted's are, for L{proxyheader}.
    """

    def __init__(self, host, port):
        self.host = host
        self.port = port


def reportProxyHeader(sock, server):
    """
    A backend that reads a PROXY header with Twisted's parsers, answers
    C{SOURCE SPORT DEST DPORT|} and echoes the rest.
    """
    data = b""
    info = None
    while info is None:
        chunk = sock.recv(65536)
        if not chunk:
            sock.sendall(b"no header|")
            return
        data += chunk
        if data.startswith(b"PROXY"):
            if b"\r\n" not in data:
                continue
            info, rest = V1Parser().feed(data)
        elif len(data) >= 16:
            info, rest = V2Parser().feed(data)
    source, destination = info.source, info.destination
    sock.sendall(b"%s %d %s %d|" % (source.host.encode(), source.port, destination.host.encode(), destination.port))
    if rest:
        sock.sendall(rest)
    echo(sock, server)


def proxyHTTP(sock, server):
    """
    A backend that wants a PROXY header (any, LOCAL included) before an
    HTTP request, as nginx's C{listen ... proxy_protocol} does: without
    one it closes; with one it answers 200.
    """
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return
        data += chunk
        try:
            if data.startswith(b"PROXY"):
                if b"\r\n" not in data:
                    continue
                header, _, rest = data.partition(b"\r\n")
                if header != b"PROXY UNKNOWN":
                    V1Parser.parse(header)
            elif len(data) >= 16:
                info, rest = V2Parser().feed(data)
                if info is None:
                    continue
            else:
                continue
        except Exception:
            return
        break
    while b"\r\n\r\n" not in rest:
        chunk = sock.recv(65536)
        if not chunk:
            return
        rest += chunk
    sock.sendall(b"HTTP/1.0 200 OK\r\n\r\nok")


def connect(address, source=None, timeout=10.0):
    return socket.create_connection(
        address, timeout=timeout, source_address=(source, 0) if source else None
    )


def readAll(sock):
    chunks = []
    while True:
        data = sock.recv(65536)
        if not data:
            return b"".join(chunks)
        chunks.append(data)


def exchange(sock, payload=b"ping"):
    """
    Send C{payload} and read it echoed back; b"" when the connection was
    closed instead.
    """
    try:
        sock.sendall(payload)
        got = b""
        while len(got) < len(payload):
            data = sock.recv(65536)
            if not data:
                return got
            got += data
        return got
    except (ConnectionResetError, BrokenPipeError):
        return b""


def waitUntil(condition, timeout=10.0):
    """
    Poll C{condition} (something only txlb's admin can tell) until true.
    """
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


def refused(address, source=None):
    """
    True when a connection from C{source} is closed by txlb without an
    answer (a clean close, or a reset because txlb did not read what was
    sent).
    """
    with connect(address, source) as sock:
        return exchange(sock) == b""


class ProxyProtocolTests(SynchronousTestCase):
    def test_acceptedAndSent(self):
        """
        A haproxy: listener reads v1 and v2 headers; the hosts are sent v1
        and v2 headers with the client the accepted header named (the real
        client, not the proxy in front) and its port.
        """
        for sent in ("v1", "v2"):
            backend = startBackend(self, reportProxyHeader)
            process, address = startTwistd(
                self, ["txlb", *PROXY_LISTEN, "--backend", f"{backend.address},proxy={sent}"]
            )
            for accepted in ("v1", "v2"):
                header = proxyheader.encode(
                    accepted, Address("203.0.113.9", 4242), Address("198.51.100.1", 443)
                )
                answer = request(address, header + b"hello")
                self.assertEqual(answer, b"203.0.113.9 4242 198.51.100.1 443|hello", (sent, accepted))
            process.stop()

    def test_sentWithTheClientsAddress(self):
        """
        On a plain listener, a host with proxy=v2 learns the client's own
        address and port (127.0.0.2 here) and the listener's address.
        """
        backend = startBackend(self, reportProxyHeader)
        process, address = startTwistd(self, ["txlb", *LISTEN, "--backend", f"{backend.address},proxy=v2"])
        with connect(address, OTHER) as sock:
            port = sock.getsockname()[1]
            sock.sendall(b"data")
            sock.shutdown(socket.SHUT_WR)
            answer = readAll(sock)
        self.assertEqual(answer, b"127.0.0.2 %d 127.0.0.1 %d|data" % (port, address[1]))

    def test_checksSendTheHeader(self):
        """
        An http check of hosts that want a PROXY header passes: the check
        sends one first (v1 UNKNOWN, v2 LOCAL).
        """
        v1 = startBackend(self, proxyHTTP, "v1")
        v2 = startBackend(self, proxyHTTP, "v2")
        process, address = startTwistd(
            self,
            [
                "txlb", *LISTEN, *ADMIN, "--backend", f"{v1.address},proxy=v1",
                "--backend", f"{v2.address},proxy=v2",
                "--check", "http:/health", "--check-interval", "0.2", "--rise", "1", "--fall", "1",
            ],
        )
        rpc = xmlrpc.client.ServerProxy(adminURL(process))

        def passing():
            hosts = rpc.getStatus()["default"]["groups"]["default"]["hosts"].values()
            return all(h["state"] == "up" and h["check"]["passes"] >= 2 for h in hosts)

        waitUntil(passing)

    def test_malformedAndLateRefused(self):
        """
        A connection without a PROXY header is closed at once, one whose
        header does not come is closed after proxyHeaderTimeout; neither
        reaches a backend, and both are counted in /metrics by reason.
        """
        backend = startBackend(self, echo)
        tac = temporaryFile(
            self,
            "from txlb.config import *\n"
            "from txlb.tac import application\n"
            "application = application(Balancer(\n"
            "    services=[Service('default', listen=['haproxy:tcp:0:interface=127.0.0.1'],\n"
            f"        groups=[Group('g', hosts=[Host('a', '{backend.address}')])],\n"
            "        proxyHeaderTimeout=0.5)],\n"
            "    admin=Admin('tcp:0:interface=127.0.0.1')))\n",
        )
        process, address = startTwistd(self, ["txlb", "--config", tac])
        with connect(address) as sock:
            self.assertEqual(exchange(sock, b"GET / HTTP/1.0\r\n\r\n"), b"")
        with connect(address) as sock:
            started = time.monotonic()
            self.assertEqual(readAll(sock), b"")
            self.assertGreaterEqual(time.monotonic() - started, 0.4)
        good = proxyheader.v1(Address("203.0.113.9", 1), Address("127.0.0.1", 2))
        self.assertEqual(request(address, good + b"ok"), b"ok")
        self.assertEqual(backend.connections, 1)
        _, metrics = fetch(adminURL(process, "/metrics"))
        self.assertIn('txlb_service_refusals_total{reason="proxy-header",service="default"} 1.0', metrics)
        self.assertIn(
            'txlb_service_refusals_total{reason="proxy-header-timeout",service="default"} 1.0', metrics
        )


class AccessControlTests(SynchronousTestCase):
    def test_allowDenyWithWorkers(self):
        """
        With --workers 2, --allow 127.0.0.0/8 --deny 127.0.0.2 lets
        127.0.0.1 through and closes 127.0.0.2 in every worker; the
        refusals are summed over both workers.
        """
        backend = startBackend(self, echo)
        process, address = startTwistd(
            self,
            [
                "txlb", "--workers", "2", *LISTEN, *ADMIN, "--backend", backend.address,
                "--allow", "127.0.0.0/8", "--deny", OTHER,
            ],
        )
        serving(process)
        for _ in range(20):
            self.assertEqual(request(address, b"hi"), b"hi")
            self.assertTrue(refused(address, OTHER))
        self.assertEqual(backend.connections, 20)
        rpc = xmlrpc.client.ServerProxy(adminURL(process))
        workers = rpc.getWorkers()
        self.assertTrue(all(w["accepted"] > 0 for w in workers), workers)
        self.assertEqual(rpc.getStatus()["default"]["refusals"], {"denied": 20})


    def test_proxyHeaderWithWorkers(self):
        """
        With --workers 2 on a haproxy: listener, every worker checks the
        access list against the address the PROXY header names and sends
        that address on to the host.
        """
        backend = startBackend(self, reportProxyHeader)
        process, address = startTwistd(
            self,
            [
                "txlb", "--workers", "2", *PROXY_LISTEN, *ADMIN,
                "--backend", f"{backend.address},proxy=v1", "--deny", "192.0.2.0/24",
            ],
        )
        serving(process)
        here = Address("127.0.0.1", address[1])
        for i in range(20):
            allowed = proxyheader.v2(Address("203.0.113.1", 1000 + i), here)
            self.assertEqual(
                request(address, allowed + b"x"), b"203.0.113.1 %d 127.0.0.1 %d|x" % (1000 + i, address[1])
            )
            with connect(address) as sock:
                self.assertEqual(exchange(sock, proxyheader.v2(Address("192.0.2.1", 1), here)), b"")
        rpc = xmlrpc.client.ServerProxy(adminURL(process))
        self.assertTrue(all(w["accepted"] > 0 for w in rpc.getWorkers()))
        self.assertEqual(rpc.getStatus()["default"]["refusals"], {"denied": 20})


class LimitTests(SynchronousTestCase):
    def test_maxClientConns(self):
        """
        --max-client-conns 2: a third connection from 127.0.0.1 is closed
        while two are open; 127.0.0.2 is not affected; once one ends,
        127.0.0.1 may connect again.
        """
        backend = startBackend(self, echo)
        process, address = startTwistd(
            self, ["txlb", *LISTEN, *ADMIN, "--backend", backend.address, "--max-client-conns", "2"]
        )
        held = [connect(address) for _ in range(2)]
        for sock in held:
            self.addCleanup(sock.close)
            self.assertEqual(exchange(sock), b"ping")
        self.assertTrue(refused(address))
        with connect(address, OTHER) as other:
            self.assertEqual(exchange(other), b"ping")
        held[0].close()
        rpc = xmlrpc.client.ServerProxy(adminURL(process))
        waitUntil(lambda: rpc.getStatus()["default"]["clients"] == 1)
        self.assertEqual(request(address, b"again"), b"again")
        _, metrics = fetch(adminURL(process, "/metrics"))
        self.assertIn('txlb_service_refusals_total{reason="max-client-conns",service="default"} 1.0', metrics)
        _, page = fetch(adminURL(process, "/"))
        self.assertIn("1 closed at accept (max-client-conns 1)", page)

    def test_maxClientRate(self):
        """
        --max-client-rate 3: of five connections opened at once from
        127.0.0.1, three are served; 127.0.0.2 is not affected.
        """
        backend = startBackend(self, echo)
        process, address = startTwistd(
            self, ["txlb", *LISTEN, "--backend", backend.address, "--max-client-rate", "3"]
        )
        started = time.monotonic()
        socks = [connect(address) for _ in range(5)]
        answers = [exchange(s) for s in socks]
        elapsed = time.monotonic() - started
        for s in socks:
            s.close()
        if elapsed >= 0.9:
            self.skipTest(f"five connections took {elapsed:.2f} s; the one-second window passed")
        self.assertEqual(sorted(answers), [b"", b"", b"ping", b"ping", b"ping"])
        self.assertEqual(request(address, b"x", source=OTHER), b"x")

    def test_maxconnHoldsInTheBacklog(self):
        """
        --maxconn 2: of a burst of six clients, two are served and four
        wait in the kernel's backlog (connected by the kernel, unanswered
        by txlb); each is served as soon as a connection ends.
        """
        backend = startBackend(self, echo)
        process, address = startTwistd(self, ["txlb", *LISTEN, "--backend", backend.address, "--maxconn", "2"])
        socks = [connect(address, timeout=0.5) for _ in range(6)]
        for sock in socks:
            self.addCleanup(sock.close)
            sock.sendall(b"waiting")
        answered, waiting = [], []
        for sock in socks:
            try:
                self.assertEqual(sock.recv(100), b"waiting")
                answered.append(sock)
            except socket.timeout:
                waiting.append(sock)
        self.assertEqual((len(answered), len(waiting)), (2, 4))
        self.assertEqual(backend.connections, 2)
        for sock in waiting:
            answered.pop().close()
            sock.settimeout(10)
            self.assertEqual(sock.recv(100), b"waiting")
            answered.append(sock)
        self.assertEqual(backend.connections, 6)
