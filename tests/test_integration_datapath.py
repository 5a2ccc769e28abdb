"""
The data paths, held to the same promises: Twisted's normal path
(C{--no-lean --no-splice}), the zero-copy path (C{splice(2)}, taken by
connections that move bulk data), and the lean path (L{txlb.lean}, raw
sockets on the reactor) with and without the zero-copy path. Each test runs
against every path, with a real twistd and real backends, and checks
through the admin which path was taken.
"""

import hashlib
import os
import select
import socket
import ssl
import struct
import threading
import xmlrpc.client

from twisted.trial.unittest import SkipTest, SynchronousTestCase

from tests.support import deadAddress, echo, replyAfterEOF, rss, startBackend, startTwistd
from tests.test_integration_admin import adminURL
from txlb import _splice

MB = 1024 * 1024


def pushAndCollect(address, payload):
    """
    Send C{payload} while reading what comes back, shut down the write
    side, and return everything read until EOF.
    """
    received = []
    with socket.create_connection(address, timeout=30) as s:
        reader = threading.Thread(target=lambda: _drain(s, received))
        reader.start()
        s.sendall(payload)
        s.shutdown(socket.SHUT_WR)
        reader.join(60)
    return b"".join(received)


def _drain(sock, into):
    while True:
        data = sock.recv(1 << 16)
        if not data:
            return
        into.append(data)


def tlsEcho(sock, payload, timeout=30.0):
    """
    Send C{payload} over the TLS socket C{sock} while reading what comes
    back, until as many bytes came back, the peer closed, or nothing
    happened for C{timeout} seconds; return what was read.

    One thread does both: OpenSSL does not allow one connection to be
    read in one thread while another writes to it.
    """
    sock.setblocking(False)
    view = memoryview(payload)
    sent, got, received = 0, [], 0
    while received < len(payload):
        writing = [sock] if sent < len(payload) else []
        readable, writable, _ = select.select([sock], writing, [], timeout)
        if not readable and not writable:
            raise AssertionError(f"nothing happened for {timeout} s: sent {sent}, got {received}")
        if writable:
            try:
                # After a "want" error OpenSSL must be given the same bytes again:
                # sent has not moved, so this slice is the same.
                sent += sock.send(view[sent : sent + (1 << 16)])
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                pass
        # Read all there is, including what OpenSSL has decrypted already
        # (select does not see that).
        while True:
            try:
                data = sock.recv(1 << 16)
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                break
            if not data:
                return b"".join(got)
            got.append(data)
            received += len(data)
    return b"".join(got)


def sendThenListen(sock, server):
    """
    Send 4 MB, shut down the write side, then record what the client sends
    until its EOF.
    """
    sock.sendall(b"s" * (4 * MB))
    sock.shutdown(socket.SHUT_WR)
    got = []
    _drain(sock, got)
    server.got = b"".join(got)
    server.done.set()


def sendThenReset(sock, server):
    """
    Send 4 MB, then reset the connection (SO_LINGER 0) instead of closing
    it: a reply cut short.
    """
    sock.sendall(b"r" * (4 * MB))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def readUntilEnd(sock):
    """
    Read until the end of the stream; C{"reset"} when it ended by a reset,
    C{"eof"} when it ended cleanly.
    """
    try:
        while sock.recv(1 << 16):
            pass
    except ConnectionResetError:
        return "reset"
    return "eof"


class _DataPath:
    """
    The promises of the relay; C{FLAGS} picks the path.
    """

    FLAGS = []
    SPLICED = None
    LEAN = None

    def start(self, behaviour, more=()):
        backend = startBackend(self, behaviour)
        self.process, address = startTwistd(self, [
            "txlb", "--listen", "tcp:0:interface=127.0.0.1", *more, "--backend", backend.address,
            "--admin", "tcp:0:interface=127.0.0.1", *self.FLAGS,
        ])
        self.rpc = xmlrpc.client.ServerProxy(adminURL(self.process))
        return backend, address

    def assertPath(self, bulk=True):
        """
        The connections took this class's path (C{bulk}: and moved enough
        data for the zero-copy path); none is left open.
        """
        status = self.rpc.getStatus()["default"]
        if self.SPLICED and bulk:
            self.assertGreater(status["spliced"], 0)
        elif not self.SPLICED:
            self.assertEqual(status["spliced"], 0)
        if self.LEAN:
            self.assertEqual(status["lean"], status["accepted"])
        else:
            self.assertEqual(status["lean"], 0)
        hosts = status["groups"]["default"]["hosts"]
        self.assertEqual(sum(h["open"] for h in hosts.values()), 0)
        return hosts

    def test_bulkEcho(self):
        """
        20 MB of random bytes come back through an echo backend identical
        and in order; the byte counters add up.
        """
        _, address = self.start(echo)
        payload = os.urandom(20 * MB)
        got = pushAndCollect(address, payload)
        self.assertEqual(len(got), len(payload))
        self.assertEqual(hashlib.sha256(got).digest(), hashlib.sha256(payload).digest())
        (host,) = self.assertPath().values()
        self.assertEqual((host["bytesIn"], host["bytesOut"]), (20.0 * MB, 20.0 * MB))

    def test_clientHalfClose(self):
        """
        A client that sends 8 MB and shuts down its write side still gets
        the backend's answer, sent after the backend saw the end.
        """
        _, address = self.start(replyAfterEOF)
        got = pushAndCollect(address, b"c" * (8 * MB))
        self.assertEqual(got, b"got %d bytes" % (8 * MB))
        self.assertPath()

    def test_backendHalfClose(self):
        """
        A backend that sends 4 MB and shuts down its write side still gets
        what the client sends after that.
        """
        backend, address = self.start(sendThenListen)
        backend.server.done = threading.Event()
        with socket.create_connection(address, timeout=30) as s:
            got = []
            _drain(s, got)
            self.assertEqual(len(b"".join(got)), 4 * MB)
            s.sendall(b"after your end")
            s.shutdown(socket.SHUT_WR)
            self.assertTrue(backend.server.done.wait(30))
        self.assertEqual(backend.server.got, b"after your end")
        self.assertPath()

    def test_slowReaderBounded(self):
        """
        A client that writes to an echo backend and never reads stops
        being read from once every buffer is full: txlb's memory grows by
        less than 8 MB while the client tries to push 200 MB, and other
        clients are served meanwhile.
        """
        _, address = self.start(echo)
        pushAndCollect(address, os.urandom(MB))
        before = rss(self.process.popen.pid)
        chunk = b"x" * 65536
        sent = 0
        with socket.create_connection(address) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
            s.settimeout(2.0)
            try:
                while sent < 200 * MB:
                    sent += s.send(chunk)
            except socket.timeout:
                # Nothing more was taken for 2 s: every buffer is full.
                pass
            grown = rss(self.process.popen.pid) - before
            with socket.create_connection(address, timeout=5) as other:
                other.sendall(b"still served")
                self.assertEqual(other.recv(100), b"still served")
        self.assertLess(sent, 200 * MB, "200 MB swallowed: no backpressure")
        self.assertLess(grown, 8 * MB, f"txlb grew by {grown} bytes")


    def test_failover(self):
        """
        With a dead host listed first, every client still gets its answer
        from the live one; the dead host's failures are counted and no
        connection is left open.
        """
        _, address = self.start(echo, ["--backend", deadAddress()])
        for i in range(6):
            self.assertEqual(pushAndCollect(address, b"ping %d" % i), b"ping %d" % i)
        hosts = self.assertPath(bulk=False)
        dead, live = sorted(hosts.values(), key=lambda h: h["failed"], reverse=True)
        self.assertGreater(dead["failed"], 0)
        self.assertEqual((live["failed"], live["total"]), (0, 6))

    def test_backendResetReachesClient(self):
        """
        A backend that resets its connection mid-reply is seen by the
        client as a reset, not as a complete reply ending cleanly; the
        reset is counted.
        """
        _, address = self.start(sendThenReset)
        with socket.create_connection(address, timeout=30) as s:
            self.assertEqual(readUntilEnd(s), "reset")
        status = self.rpc.getStatus()["default"]
        self.assertEqual(status["resets"], 1)


class TLSListenerTests(SynchronousTestCase):
    def test_neverSpliced(self):
        """
        A TLS listener's connections stay on the normal path (the kernel
        would bypass TLS): 8 MB echoed over TLS come back identical.
        """
        from tests.support import selfSigned

        keyPath, certPath = selfSigned(self)
        backend = startBackend(self, echo)
        process, address = startTwistd(self, [
            "txlb", "--listen", f"ssl:0:privateKey={keyPath}:certKey={certPath}:interface=127.0.0.1",
            "--backend", backend.address, "--admin", "tcp:0:interface=127.0.0.1",
        ])
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        payload = os.urandom(8 * MB)
        with context.wrap_socket(socket.create_connection(address, timeout=30)) as s:
            got = tlsEcho(s, payload)
        self.assertEqual(hashlib.sha256(got).digest(), hashlib.sha256(payload).digest())
        rpc = xmlrpc.client.ServerProxy(adminURL(process))
        self.assertEqual(rpc.getStatus()["default"]["spliced"], 0)

class NormalPathTests(_DataPath, SynchronousTestCase):
    FLAGS = ["--no-lean", "--no-splice"]
    SPLICED = False
    LEAN = False


class SplicePathTests(_DataPath, SynchronousTestCase):
    FLAGS = ["--no-lean"]
    SPLICED = True
    LEAN = False

    def setUp(self):
        if not _splice.available():
            raise SkipTest("splice(2) needs Linux and Python 3.10 or later")


class LeanPathTests(_DataPath, SynchronousTestCase):
    FLAGS = ["--no-splice"]
    SPLICED = False
    LEAN = True


class LeanSplicePathTests(_DataPath, SynchronousTestCase):
    FLAGS = []
    SPLICED = True
    LEAN = True

    def setUp(self):
        if not _splice.available():
            raise SkipTest("splice(2) needs Linux and Python 3.10 or later")
