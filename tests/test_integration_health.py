"""
Health as a new user tries it: real twistd, real backends, real agents.
"""

import socket
import time

from twisted.trial.unittest import SynchronousTestCase

from tests.support import TXLB, Backend, Process, name, request, startBackend, startTwistd
from tests.test_health_wire import keyFile as temporaryKey
from txlb.health import Beat, encode

KEY = b"integration-test-key-0123456789"
QUICK = ["txlb", "--listen", "tcp:0:interface=127.0.0.1"]


def http(status, body):
    """
    A backend behaviour answering any request with C{status} and C{body}.
    """

    def behaviour(sock, server):
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
        sock.sendall(b"HTTP/1.0 %s X\r\nContent-Length: %d\r\n\r\n%s" % (status, len(body), body))
        sock.shutdown(socket.SHUT_WR)

    return behaviour


def get(address):
    return request(address, b"GET /health HTTP/1.0\r\n\r\n")


def requestsFor(address, seconds, send=request):
    """
    Make requests one after another for C{seconds}; return the answers.
    """
    answers = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        answers.append(send(address))
    return answers


class ActiveCheckTests(SynchronousTestCase):
    def test_killAndRestart(self):
        """
        With --check tcp: a killed backend gets no new client within 2 s and no
        client fails meanwhile; restarted on its port it is back within 2 s.
        """
        a = Backend(name, "A")
        b = startBackend(self, name, "B")
        twistd, address = startTwistd(self, QUICK + [
            "--backend", a.address, "--backend", b.address,
            "--check", "tcp", "--check-interval", "0.2", "--rise", "2", "--fall", "2",
        ])
        self.assertEqual({request(address).strip() for _ in range(4)}, {b"A", b"B"})
        a.stop()
        killed = time.monotonic()
        answers = []
        while not any("up -> down" in line for line in twistd.lines):
            answers.append(request(address).strip())
            self.assertLess(time.monotonic() - killed, 2.0, twistd.output)
        self.assertEqual(set(answers), {b"B"})
        # The checker or passive ejection (clients failing over) comes first.
        self.assertRegex(
            twistd.output,
            r"host %s \S+ up -> down: (2 checks failed \(tcp\)|ejected for 30 s after 3 "
            r"connect failures): connection refused" % a.address,
        )
        self.assertEqual({request(address).strip() for _ in range(6)}, {b"B"})

        a = startBackend(self, name, "A", port=a.port)
        restarted = time.monotonic()
        twistd.waitFor(r"host \S+ \(\S+\) down -> up: 2 checks passed \(tcp\)", timeout=2.0)
        self.assertLess(time.monotonic() - restarted, 2.0)
        self.assertEqual({request(address).strip() for _ in range(4)}, {b"A", b"B"})

    def test_http500KeptOut(self):
        """
        A backend that accepts TCP but answers the HTTP check with 500 is
        taken out and kept out by --check http:/health.
        """
        sick = startBackend(self, http(b"500", b"sick"))
        well = startBackend(self, http(b"200", b"well"))
        twistd, address = startTwistd(self, QUICK + [
            "--backend", sick.address, "--backend", well.address,
            "--check", "http:/health", "--check-interval", "0.2", "--fall", "2",
        ])
        twistd.waitFor(r"host %s \S+ up -> down: 2 checks failed \(http:/health\): "
                       r"answered HTTP 500" % sick.address, timeout=5.0)
        answers = requestsFor(address, 1.0, get)
        self.assertEqual({a.rpartition(b"\r\n")[2] for a in answers}, {b"well"})
        self.assertNotIn("down -> up", twistd.output)


class HeartbeatTests(SynchronousTestCase):
    def test_agent(self):
        """
        With --heartbeat and no --backend, the heartbeat agent makes clients
        reach its backend; garbage, unsigned and replayed datagrams change
        nothing; stopping the agent takes the host out after dead-after.
        """
        keyFile = temporaryKey(self, KEY.decode() + "\n")
        backend = startBackend(self, name, "P")
        twistd, address = startTwistd(self, QUICK + [
            "--heartbeat", "udp:0:interface=127.0.0.1", "--heartbeat-key-file", keyFile,
        ])
        listener = twistd.waitFor(r"heartbeats on udp (\S+)")[0].group(1)
        host, _, port = listener.rpartition(":")
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(udp.close)

        def beat(nonce, key=KEY):
            return encode(Beat("a", backend.address, 1, 0.0, "up", time.time(), nonce, listener), key)

        udp.sendto(b"garbage", (host, int(port)))
        udp.sendto(beat("1" * 24, key=b"not-the-key-0123456789"), (host, int(port)))
        twistd.waitFor("dropped heartbeat from 127.0.0.1:\\d+: garbled")
        self.assertEqual(request(address), b"")

        agent = Process(TXLB + [
            "heartbeat", "--to", listener, "--key-file", keyFile, "--name", "a",
            "--address", backend.address, "--every", "0.2",
        ])
        self.addCleanup(agent.stop)
        twistd.waitFor(r"host a \(%s\) joined by heartbeat" % backend.address)
        self.assertEqual(request(address).strip(), b"P")
        signed = beat("2" * 24)
        udp.sendto(signed, (host, int(port)))

        agent.stop()
        agent.waitFor(r"stopped after \d+ heartbeats")
        stopped = time.monotonic()
        twistd.waitFor(r"host a \S+ up -> down: no heartbeat for 3 s", timeout=6.0)
        self.assertGreater(time.monotonic() - stopped, 2.0)
        self.assertEqual(request(address), b"")

        udp.sendto(signed, (host, int(port)))
        twistd.waitFor("dropped heartbeat from 127.0.0.1:\\d+: replayed")
        self.assertEqual(request(address), b"")
        self.assertEqual(twistd.output.count("joined by heartbeat"), 1)
        self.assertNotIn("down -> up", twistd.output)


    def test_drain(self):
        """
        An agent started with --drain lets its host join but sends it no
        clients.
        """
        keyFile = temporaryKey(self, KEY.decode())
        backend = startBackend(self, name, "P")
        twistd, address = startTwistd(self, QUICK + [
            "--heartbeat", "udp:0:interface=127.0.0.1", "--heartbeat-key-file", keyFile,
        ])
        listener = twistd.waitFor(r"heartbeats on udp (\S+)")[0].group(1)
        agent = Process(TXLB + [
            "heartbeat", "--to", listener, "--key-file", keyFile, "--name", "a",
            "--address", backend.address, "--drain",
        ])
        self.addCleanup(agent.stop)
        twistd.waitFor(r"host a \S+ up -> draining: heartbeat asks to drain")
        self.assertEqual(request(address), b"")
        self.assertEqual(backend.connections, 0)


class ExampleTests(SynchronousTestCase):
    def test_exampleTac(self):
        """
        The example tacs/health.tac loads.
        """
        check = Process(TXLB + ["check", "tacs/health.tac"])
        self.assertEqual(check.wait(), 0, check.output)
        self.assertIn("tacs/health.tac: OK", check.output)
