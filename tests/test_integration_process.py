"""
txlb as a user runs it: the example .tac files, the demo, bad input, a
clean stop on SIGTERM (bounded memory with a client that never reads is in
test_integration_datapath, for both data paths).
"""

import os
import re
import signal
import socket

from twisted.trial.unittest import SynchronousTestCase

from tests.support import (
    ROOT,
    TXLB,
    Process,
    Twistd,
    name,
    request,
    startBackend,
    startTwistd,
    temporaryFile,
)


def tacCopy(testCase, tac, replacements):
    """
    A copy of C{tacs/TAC} with its fixed ports replaced, for a test run.
    """
    with open(os.path.join(ROOT, "tacs", tac)) as f:
        source = f.read()
    for old, new in replacements.items():
        assert old in source, (old, tac)
        source = source.replace(old, new)
    return temporaryFile(testCase, source)


def quickstartTac(testCase):
    """
    tacs/quickstart.tac on a port from the OS, over two live backends.
    """
    a = startBackend(testCase, name, "app1")
    b = startBackend(testCase, name, "app2")
    return tacCopy(
        testCase,
        "quickstart.tac",
        {"tcp:8080:": "tcp:0:", "127.0.0.1:8081": a.address, "127.0.0.1:8082": b.address},
    )


class TacTests(SynchronousTestCase):
    def test_quickstartTac(self):
        """
        tacs/quickstart.tac relays round robin under twistd -ny, and stops
        cleanly on SIGTERM.
        """
        path = quickstartTac(self)
        process, address = startTwistd(self, ["-y", path], service="web")
        self.assertEqual([request(address).strip() for _ in range(4)], [b"app1", b"app2"] * 2)
        # twistd re-raises the signal after a clean shutdown, so that the exit
        # status reports it.
        self.assertEqual(process.stop(), -signal.SIGTERM)
        self.assertIn("Main loop terminated.", process.output)
        self.assertIn("Server Shut Down.", process.output)
        self.assertNotIn("Traceback", process.output)

    def test_configFlag(self):
        """
        twistd txlb --config runs the same .tac.
        """
        path = quickstartTac(self)
        _, address = startTwistd(self, ["txlb", "--config", path], service="web")
        self.assertEqual({request(address).strip() for _ in range(2)}, {b"app1", b"app2"})

    def test_demoTac(self):
        """
        tacs/demo.tac answers from its three demo backends in turn.
        """
        path = tacCopy(self, "demo.tac", {"tcp:8080:": "tcp:0:"})
        _, address = startTwistd(self, ["-y", path])
        replies = [request(address, b"GET / HTTP/1.0\r\n\r\n") for _ in range(3)]
        names = [re.search(rb"hello from (demo-\d)", r).group(1) for r in replies]
        self.assertEqual(sorted(names), [b"demo-1", b"demo-2", b"demo-3"])


class DemoTests(SynchronousTestCase):
    def test_demo(self):
        """
        twistd txlb --demo logs how to try it; HTTP and plain lines both get
        an answer naming the demo backend.
        """
        process, address = startTwistd(self, ["txlb", "--demo", "--listen", "tcp:0:interface=127.0.0.1"])
        process.waitFor(r"txlb demo ready: try  curl http://127\.0\.0\.1:\d+/")
        reply = request(address, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertTrue(reply.startswith(b"HTTP/1.1 200 OK"))
        self.assertRegex(request(address, b"hi\n"), rb"^demo-\d: hi\n$")


class BadInputTests(SynchronousTestCase):
    def failing(self, args):
        process = Twistd(args)
        self.addCleanup(process.stop)
        code = process.wait()
        self.assertNotEqual(code, 0)
        self.assertNotIn("Traceback", process.output)
        return process.output

    def test_badFlags(self):
        """
        Bad flags exit non-zero with one sentence.
        """
        output = self.failing(["txlb", "--backend", "127.0.0.1:1,weight=heavy"])
        self.assertIn(
            "twistd txlb: --backend '127.0.0.1:1,weight=heavy': weight must be a whole number, not 'heavy'",
            output,
        )

    def test_badTac(self):
        """
        A .tac with an error names the file and line, exit non-zero.
        """
        path = temporaryFile(self, "from txlb.config import Host\n\nHost('a', 'nowhere:1', weight=0.5)\n")
        output = self.failing(["txlb", "--config", path])
        self.assertIn(f"{os.path.basename(path)}, line 3: a host's weight must be a whole number", output)

    def test_portInUse(self):
        """
        A listener that cannot bind says so in one line and txlb stops.
        """
        taken = socket.socket()
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        self.addCleanup(taken.close)
        port = taken.getsockname()[1]
        process = Twistd(["txlb", "--listen", f"tcp:{port}:interface=127.0.0.1", "--backend", "127.0.0.1:1"])
        self.addCleanup(process.stop)
        process.waitFor(rf"service default cannot listen on tcp:{port}:interface=127.0.0.1: ")
        self.assertEqual(process.wait(), 1)
        self.assertNotIn("Traceback", process.output)

    def test_schedulerHelp(self):
        """
        --scheduler help lists the schedulers and exits 0.
        """
        process = Twistd(["txlb", "--scheduler", "help"])
        self.addCleanup(process.stop)
        self.assertEqual(process.wait(), 0)
        self.assertIn("roundrobin", process.output)


class CheckCommandTests(SynchronousTestCase):
    def test_check(self):
        """
        txlb check prints what a .tac runs without binding anything.
        """
        process = Process(TXLB + ["check", os.path.join(ROOT, "tacs", "quickstart.tac")])
        self.addCleanup(process.stop)
        self.assertEqual(process.wait(), 0)
        self.assertIn("service web: listen=tcp:8080:interface=127.0.0.1", process.output)
        self.assertIn("host app2: address=127.0.0.1:8082 weight=1", process.output)
