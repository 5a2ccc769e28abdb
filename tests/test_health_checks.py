"""
The built-in checks, on memory transports, and finding checks by name.
"""

import os
import shutil
import sys
import tempfile

from twisted.internet.error import ConnectionRefusedError
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase
from zope.interface.verify import verifyObject

from txlb.address import backendConnector
from txlb.backend import Backend
from txlb.errors import ConfigError
from txlb.health import CheckFailed, allChecks, makeCheck
from txlb.interfaces import ICheck, ICheckFactory


class Probing:
    """
    Run a check on a memory reactor and play the host's part.
    """

    def start(self, spec, options=None, address="127.0.0.1:8081"):
        self.reactor = MemoryReactorClock()
        self.check = makeCheck(spec, self.reactor, options)
        host = Backend("a", address, backendConnector(address, self.reactor))
        self.result = self.check.check(host, 1.0)
        return self.result

    def accept(self):
        factory = self.reactor.tcpClients[-1][2]
        self.protocol = factory.buildProtocol(None)
        self.transport = StringTransport()
        self.protocol.makeConnection(self.transport)
        return self.transport

    def refuse(self):
        factory = self.reactor.tcpClients[-1][2]
        factory.clientConnectionFailed(None, Failure(ConnectionRefusedError()))

    def why(self):
        return self.failureResultOf(self.result, CheckFailed).getErrorMessage()


class TCPCheckTests(Probing, SynchronousTestCase):
    def test_interfaces(self):
        """
        Every built-in factory provides ICheckFactory and makes an ICheck.
        """
        for factory in allChecks():
            verifyObject(ICheckFactory, factory)
        self.start("tcp")
        verifyObject(ICheck, self.check)

    def test_passesOnConnect(self):
        """
        The tcp check passes once the host accepts, and closes at once.
        """
        self.start("tcp")
        self.assertEqual(self.reactor.tcpClients[0][:2], ("127.0.0.1", 8081))
        transport = self.accept()
        self.assertIsNone(self.successResultOf(self.result))
        self.assertTrue(transport.disconnecting)

    def test_failsOnRefusal(self):
        """
        A refused connection fails the check with a short reason.
        """
        self.start("tcp")
        self.refuse()
        self.assertEqual(self.why(), "connection refused")

    def test_cancelTimesOut(self):
        """
        Cancelling a pending check (the checker's timeout) fails it as
        timed out and abandons the connection.
        """
        self.start("tcp")
        self.result.cancel()
        self.assertEqual(self.why(), "timed out")


class SendExpectTests(Probing, SynchronousTestCase):
    def test_prefix(self):
        """
        The check sends SEND (escapes read) and passes on a reply starting
        with EXPECT, even in pieces.
        """
        self.start(r"send-expect:PING\r\n:+PONG")
        transport = self.accept()
        self.assertEqual(transport.value(), b"PING\r\n")
        self.protocol.dataReceived(b"+PO")
        self.assertNoResult(self.result)
        self.protocol.dataReceived(b"NG more")
        self.assertIsNone(self.successResultOf(self.result))

    def test_mismatch(self):
        """
        A reply that cannot start with EXPECT fails at once.
        """
        self.start("send-expect:PING:+PONG")
        self.accept()
        self.protocol.dataReceived(b"-ERR")
        self.assertIn("expected", self.why())

    def test_regex(self):
        """
        EXPECT written /REGEX/ passes when the reply matches.
        """
        self.start("send-expect:STATUS:/ok [0-9]+/")
        self.accept()
        self.protocol.dataReceived(b"all ok 12\n")
        self.assertIsNone(self.successResultOf(self.result))

    def test_closedEarly(self):
        """
        A host closing before the expected answer fails the check.
        """
        self.start("send-expect:PING:PONG")
        self.accept()
        self.protocol.connectionLost(Failure(ConnectionRefusedError()))
        self.assertIn("closed", self.why())


class HTTPCheckTests(Probing, SynchronousTestCase):
    def test_request(self):
        """
        The http check asks for the path with a Host header naming the host.
        """
        self.start("http:/health")
        transport = self.accept()
        self.assertTrue(transport.value().startswith(b"GET /health HTTP/1.0\r\n"))
        self.assertIn(b"\r\nHost: 127.0.0.1:8081\r\n", transport.value())

    def test_hostOption(self):
        """
        The host option replaces the Host header.
        """
        self.start("http:/", {"host": "example.org"})
        self.assertIn(b"\r\nHost: example.org\r\n", self.accept().value())

    def test_ok(self):
        """
        A 200 status passes.
        """
        self.start("http:/health")
        self.accept()
        self.protocol.dataReceived(b"HTTP/1.1 200 OK\r\n\r\n")
        self.assertIsNone(self.successResultOf(self.result))

    def test_serverError(self):
        """
        A 500 status fails, saying the status.
        """
        self.start("http:/health")
        self.accept()
        self.protocol.dataReceived(b"HTTP/1.1 500 Internal Server Error\r\n\r\n")
        self.assertEqual(self.why(), "answered HTTP 500")

    def test_statusRange(self):
        """
        The status option sets the accepted range.
        """
        self.start("http:/health", {"status": "200"})
        self.accept()
        self.protocol.dataReceived(b"HTTP/1.1 302 Found\r\n")
        self.assertEqual(self.why(), "answered HTTP 302")

    def test_body(self):
        """
        With a body option the check waits for that substring in the body.
        """
        self.start("http:/health", {"body": "alive"})
        self.accept()
        self.protocol.dataReceived(b"HTTP/1.1 200 OK\r\nX: alive\r\n\r\n")
        self.assertNoResult(self.result)
        self.protocol.dataReceived(b"I am alive")
        self.assertIsNone(self.successResultOf(self.result))

    def test_bodyMissing(self):
        """
        A body without the substring fails when the host closes.
        """
        self.start("http:/health", {"body": "alive"})
        self.accept()
        self.protocol.dataReceived(b"HTTP/1.1 200 OK\r\n\r\ndead")
        self.protocol.connectionLost(Failure(ConnectionRefusedError()))
        self.assertIn("without", self.why())

    def test_notHTTP(self):
        """
        A reply that is not HTTP fails the check.
        """
        self.start("http:/health")
        self.accept()
        self.protocol.dataReceived(b"SSH-2.0-OpenSSH\r\n")
        self.assertIn("not an HTTP status line", self.why())


PLUGIN = """
from txlb.health._checks import CheckFactory, TCPCheck

def make(argument, options, reactor):
    return TCPCheck(reactor, "always:" + argument)

always = CheckFactory("always", "a test plugin", make)
"""


class PluginTests(SynchronousTestCase):
    def test_found(self):
        """
        A check factory in a twisted/plugins/ module is found by its name,
        after the built-ins.
        """
        import twisted.plugins

        folder = os.path.join(tempfile.mkdtemp(), "twisted", "plugins")
        os.makedirs(folder)
        self.addCleanup(shutil.rmtree, os.path.dirname(os.path.dirname(folder)))
        with open(os.path.join(folder, "txlb_test_always.py"), "w") as f:
            f.write(PLUGIN)
        twisted.plugins.__path__.append(folder)
        self.addCleanup(twisted.plugins.__path__.remove, folder)
        self.addCleanup(sys.modules.pop, "twisted.plugins.txlb_test_always", None)
        self.assertEqual([f.name for f in allChecks()], ["tcp", "send-expect", "http", "always"])
        check = makeCheck("always:x", MemoryReactorClock())
        self.assertEqual(check.description, "always:x")


class MakeCheckTests(SynchronousTestCase):
    def test_errors(self):
        """
        Bad check specs give one sentence naming the problem.
        """
        reactor = MemoryReactorClock()
        cases = [
            ("ping", None, "unknown check 'ping'; known checks: tcp, send-expect, http"),
            ("http:health", None, "needs a path"),
            ("send-expect:PING", None, "send-expect:SEND:EXPECT"),
            ("send-expect:A:/(/", None, "bad regular expression"),
            ("tcp:x", None, "takes no argument"),
            ("http:/", {"status": "abc"}, "must be a code or a range"),
            ("http:/", {"status": "700"}, "within 100-599"),
            ("http:/", {"colour": "red"}, "has no option 'colour'"),
            ("", None, "must be a kind"),
        ]
        for spec, options, message in cases:
            with self.assertRaises(ConfigError) as raised:
                makeCheck(spec, reactor, options)
            self.assertIn(message, str(raised.exception))
