"""
The quick start, run as a user would: a real twistd process, real backends.
"""

import os
import socket

from twisted.trial.unittest import SynchronousTestCase

from tests.support import deadAddress, name, replyAfterEOF, request, startBackend, startTwistd


class RotationTests(SynchronousTestCase):
    def test_alternates(self):
        """
        Ten connections through two backends reach A, B, A, B, ...
        """
        a = startBackend(self, name, "A")
        b = startBackend(self, name, "B")
        _, address = startTwistd(
            self, ["txlb", "--listen", "tcp:0:interface=127.0.0.1",
                   "--backend", a.address, "--backend", b.address]
        )
        seen = [request(address).strip() for _ in range(10)]
        self.assertEqual(seen, [b"A", b"B"] * 5)

    def test_deadBackendFailover(self):
        """
        With a backend where nothing listens, every client still reaches the
        live one.
        """
        live = startBackend(self, name, "live")
        _, address = startTwistd(
            self, ["txlb", "--listen", "tcp:0:interface=127.0.0.1",
                   "--backend", deadAddress(), "--backend", live.address]
        )
        self.assertEqual([request(address).strip() for _ in range(6)], [b"live"] * 6)

    def test_halfClose(self):
        """
        After the client's shutdown(SHUT_WR) the backend's reply still arrives.
        """
        backend = startBackend(self, replyAfterEOF)
        _, address = startTwistd(
            self, ["txlb", "--listen", "tcp:0:interface=127.0.0.1", "--backend", backend.address]
        )
        self.assertEqual(request(address, b"x" * 1000), b"got 1000 bytes")


class AddressFamilyTests(SynchronousTestCase):
    def test_unixListenerIPv6Backend(self):
        """
        A UNIX-socket listener relays to a backend written [::1]:PORT.
        """
        import socketserver
        import tempfile
        import threading

        from tests.support import _Handler

        class V6Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
            address_family = socket.AF_INET6
            daemon_threads = True

        server = V6Server(("::1", 0), _Handler)
        server.behaviour = name
        server.name = "six"
        server.connections = 0
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        path = os.path.join(tempfile.mkdtemp(), "lb.sock")
        process, _ = startTwistd(
            self, ["txlb", "--listen", f"unix:{path}", "--backend", f"[::1]:{server.server_address[1]}"]
        )
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(10)
            s.connect(path)
            s.shutdown(socket.SHUT_WR)
            self.assertEqual(s.recv(100), b"six\n")
