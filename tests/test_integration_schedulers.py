"""
The schedulers as a user meets them: real twistd, real backends, clients
from many 127.0.0.x source addresses.
"""

import os
import socket
from collections import Counter

from twisted.trial.unittest import SynchronousTestCase

from tests.support import (
    ROOT,
    Twistd,
    deadAddress,
    name,
    request,
    startBackend,
    startTwistd,
    temporaryFile,
)

LISTEN = ["--listen", "tcp:0:interface=127.0.0.1"]


def hold(sock, server):
    """
    Send the server's name, then hold the connection until the client closes.
    """
    sock.sendall(server.name.encode() + b"\n")
    while sock.recv(1024):
        pass


def backends(testCase, behaviour, *names):
    return [startBackend(testCase, behaviour, n) for n in names]


def flags(*pairs):
    args = []
    for address, extra in pairs:
        args += ["--backend", address + extra]
    return args


class WeightTests(SynchronousTestCase):
    def test_roundrobinWeights(self):
        """
        Weights 1 and 3 over 400 connections: B gets 300 +- 4.
        """
        a, b = backends(self, name, "A", "B")
        _, address = startTwistd(
            self,
            ["txlb", *LISTEN, "--scheduler", "roundrobin",
             *flags((a.address, ",weight=1"), (b.address, ",weight=3"))],
        )
        counts = Counter(request(address).strip() for _ in range(400))
        self.assertTrue(abs(counts[b"B"] - 300) <= 4, counts)


class LeastConnectionsTests(SynchronousTestCase):
    def test_heldConnections(self):
        """
        With three connections held open on A, the next ones go to B and C.
        B and C start only after those three are placed (until then their
        connects are refused and the clients fail over to A).
        """
        [a] = backends(self, hold, "A")
        bAddress, cAddress = deadAddress(), deadAddress()
        _, address = startTwistd(
            self,
            ["txlb", *LISTEN, "--scheduler", "leastconns",
             *flags((a.address, ""), (bAddress, ""), (cAddress, ""))],
        )
        held = []
        for _ in range(3):
            s = socket.create_connection(address, timeout=10)
            self.addCleanup(s.close)
            self.assertEqual(s.recv(100), b"A\n")
            held.append(s)
        for label, where in (("B", bAddress), ("C", cAddress)):
            startBackend(self, hold, label, port=int(where.rsplit(":", 1)[1]))
        nextTwo = []
        for _ in range(2):
            s = socket.create_connection(address, timeout=10)
            self.addCleanup(s.close)
            nextTwo.append(s.recv(100).strip())
        self.assertEqual(sorted(nextTwo), [b"B", b"C"])


class HashingTests(SynchronousTestCase):
    def spread(self, scheduler):
        hosts = backends(self, name, "A", "B", "C")
        # Hosts named A, B, C (not by their ports, which the OS picks): the
        # table, and so the spread of the 200 addresses, is the same every run.
        tac = temporaryFile(self, (
            "from txlb.config import Balancer, Group, Host, Service\nfrom txlb.tac import application\n"
            "application = application(Balancer(services=[Service('default', "
            "listen=['tcp:0:interface=127.0.0.1'], groups=[Group('default', scheduler=%r, hosts=[%s])])]))\n"
        ) % (scheduler, ", ".join(f"Host({h.name!r}, {h.address!r})" for h in hosts)))
        _, address = startTwistd(self, ["txlb", "--config", tac])
        for source in ("127.0.0.2", "127.0.0.3", "127.0.0.4"):
            self.assertEqual(len({request(address, source=source) for _ in range(4)}), 1)
        counts = Counter(request(address, source=f"127.0.{i // 250}.{i % 250 + 1}").strip() for i in range(200))
        for label in (b"A", b"B", b"C"):
            self.assertTrue(abs(counts[label] - 200 / 3) <= 0.35 * 200 / 3, counts)

    def test_hash(self):
        """
        hash: the same source address lands on the same host every time;
        200 addresses spread over 3 equal hosts within 35% of even.
        """
        self.spread("hash")

    def test_maglev(self):
        """
        maglev: the same, with a Maglev table.
        """
        self.spread("maglev")

    def test_sticky(self):
        """
        sticky: a client returns to its host while others are placed by
        the inner scheduler.
        """
        hosts = backends(self, name, "A", "B")
        _, address = startTwistd(
            self,
            ["txlb", *LISTEN, "--scheduler", "sticky:expiry=300,inner=roundrobin",
             *flags(*[(h.address, "") for h in hosts])],
        )
        first = request(address, source="127.0.0.9")
        other = request(address, source="127.0.0.10")
        self.assertNotEqual(first, other)
        for _ in range(5):
            self.assertEqual(request(address, source="127.0.0.9"), first)


class NamesTests(SynchronousTestCase):
    def test_aliases(self):
        """
        Every old name starts a working balancer.
        """
        [a] = backends(self, name, "A")
        for alias in ("leastconnsrr", "rand", "roundr", "leastc", "weightr"):
            process, address = startTwistd(self, ["txlb", *LISTEN, "--scheduler", alias, "--backend", a.address])
            self.assertEqual(request(address), b"A\n")
            process.stop()

    def test_unknown(self):
        """
        --scheduler nosuch fails with one sentence listing the names.
        """
        process = Twistd(["txlb", "--scheduler", "nosuch", "--backend", "127.0.0.1:1"])
        self.addCleanup(process.stop)
        self.assertNotEqual(process.wait(), 0)
        self.assertIn(
            "twistd txlb: unknown scheduler 'nosuch'; known schedulers: roundrobin, leastconns, "
            "random, p2c, hash, maglev, sticky, first",
            process.output,
        )
        self.assertNotIn("Traceback", process.output)


class PluginTests(SynchronousTestCase):
    plugins = os.path.join(ROOT, "tacs", "plugins")

    def test_pluginScheduler(self):
        """
        A scheduler published as a Twisted plugin is listed by --scheduler
        help and used by --scheduler NAME.
        """
        helper = Twistd(["txlb", "--scheduler", "help"], path=[self.plugins])
        self.addCleanup(helper.stop)
        self.assertEqual(helper.wait(), 0)
        self.assertIn("lightest", helper.output)
        self.assertIn("maglev", helper.output)
        a, b = backends(self, name, "A", "B")
        _, address = startTwistd(
            self,
            ["txlb", *LISTEN, "--scheduler", "lightest", *flags((a.address, ""), (b.address, ""))],
            path=[self.plugins],
        )
        self.assertEqual(sorted(request(address).strip() for _ in range(2)), [b"A", b"B"])
