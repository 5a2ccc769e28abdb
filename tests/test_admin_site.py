"""
The admin's HTTP server on memory transports and a fake clock: deadlines,
the connection cap, the descriptor reserve, the body cap (never a
temporary file), logging in before the body is read, the access log.
"""

import base64
import io

from twisted.internet import defer
from twisted.internet.address import IPv4Address
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.logger import globalLogPublisher
from twisted.trial.unittest import SynchronousTestCase
from twisted.web.resource import Resource

from txlb.admin._limits import AdminLimits
from txlb.admin._login import Refused
from txlb.admin._site import AdminSite

PEER = IPv4Address("TCP", "192.0.2.7", 40000)


class _Echo(Resource):
    isLeaf = True

    def __init__(self, name="anyone"):
        Resource.__init__(self)
        self.name = name
        self.bodies = []

    def render(self, request):
        body = request.content.read()
        self.bodies.append((body, type(request.content)))
        return b"hello " + self.name.encode() + b" " + str(len(body)).encode()


class _Login:
    """
    Logs in "alice:right" (answers held back until C{release} when
    C{hold}); anything else is refused 401.
    """

    def __init__(self, hold=False):
        self.hold = hold
        self.pending = []
        self.calls = []

    def login(self, source, authorization):
        self.calls.append((source, authorization))
        good = authorization == b"Basic " + base64.b64encode(b"alice:right")
        result = _Echo("alice") if good else Refused(401, [(b"WWW-Authenticate", b'Basic realm="t"')], "no")
        if self.hold:
            d = defer.Deferred()
            self.pending.append((d, result))
            return d
        return defer.succeed(result) if good else defer.fail(result)

    def release(self):
        for d, result in self.pending:
            if isinstance(result, Refused):
                d.errback(result)
            else:
                d.callback(result)


class SiteCase(SynchronousTestCase):
    def setUp(self):
        self.clock = MemoryReactorClock()
        self.free = 100000

    def site(self, login=None, **limits):
        self.root = _Echo()
        site = AdminSite(self.root, self.clock, AdminLimits(**limits), login, free=lambda: self.free)
        site.startFactory()
        self.addCleanup(site.stopFactory)
        return site

    def connect(self, site):
        channel = site.buildProtocol(PEER)
        if channel is None:
            return None, None
        transport = StringTransport(peerAddress=PEER)
        channel.makeConnection(transport)
        self.addCleanup(lambda: channel.connectionLost(None) if channel in site.open else None)
        return channel, transport


class LimitTests(SiteCase):
    def test_connectionCap(self):
        """
        Beyond maxConnections open admin connections, new ones are refused
        as they are accepted, and counted, while every open one is busy with
        a request; a closed one makes room.
        """
        site = self.site(maxConnections=3)
        channels = [self.connect(site) for _ in range(3)]
        for channel, _ in channels:
            channel.dataReceived(b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n")
        self.assertEqual(self.connect(site), (None, None))
        self.assertEqual(site.refused["connections"], 1)
        channels[1][0].connectionLost(None)
        self.assertIsNotNone(self.connect(site)[0])

    def test_idleEvicted(self):
        """
        At the cap, a new connection takes the place of the oldest one that
        has sent no request headers yet; one busy with a request is never
        evicted.
        """
        site = self.site(maxConnections=3)
        busy, busyTransport = self.connect(site)
        busy.dataReceived(b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n")
        self.clock.advance(0.5)
        idle = [self.connect(site) for _ in range(2)]
        self.clock.advance(1.0)
        self.assertIsNotNone(self.connect(site)[0])
        self.assertTrue(idle[0][1].disconnected)
        self.assertFalse(idle[1][1].disconnected)
        self.assertFalse(busyTransport.disconnected)
        self.assertEqual(site.refused["evicted"], 1)

    def test_evictionsBounded(self):
        """
        Evicted connections count until they are gone, and no more than
        maxConnections may be closing at once: the admin never holds more
        than twice its cap.
        """
        site = self.site(maxConnections=2)
        for _ in range(4):
            self.assertIsNotNone(self.connect(site)[0])
        self.assertEqual(self.connect(site), (None, None))
        self.assertEqual((site.refused["evicted"], site.refused["connections"]), (2, 1))
        self.assertEqual(len(site.open), 4)

    def test_descriptorReserve(self):
        """
        While fewer than descriptorReserve descriptors are free, every admin
        connection is refused as it is accepted.
        """
        site = self.site(descriptorReserve=50)
        self.free = 49
        self.assertEqual(self.connect(site), (None, None))
        self.assertEqual(site.refused["descriptors"], 1)
        self.free = 50
        self.assertIsNotNone(self.connect(site)[0])

    def test_headerDeadline(self):
        """
        Headers trickling in byte by byte are cut off headerTimeout seconds
        after the connection started, however often bytes arrive.
        """
        site = self.site(headerTimeout=10.0)
        channel, transport = self.connect(site)
        for byte in b"GET / HTTP/1.1\r\nHost: x\r\n":
            self.clock.advance(0.5)
            channel.dataReceived(bytes([byte]))
            if transport.disconnected:
                break
        self.assertTrue(transport.disconnected)
        self.assertEqual(site.refused["header timeout"], 1)

    def test_idleConnection(self):
        """
        A connection that sends nothing is aborted after headerTimeout.
        """
        site = self.site(headerTimeout=10.0)
        channel, transport = self.connect(site)
        self.clock.advance(9.9)
        self.assertFalse(transport.disconnected)
        self.clock.advance(0.2)
        self.assertTrue(transport.disconnected)

    def test_requestDeadline(self):
        """
        A body trickling in is cut off requestTimeout seconds after the
        request's start.
        """
        site = self.site(requestTimeout=20.0)
        channel, transport = self.connect(site)
        channel.dataReceived(b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n")
        for _ in range(30):
            if transport.disconnected:
                break
            self.clock.advance(1.0)
            channel.dataReceived(b"x")
        self.assertTrue(transport.disconnected)
        self.assertEqual(site.refused["request timeout"], 1)

    def test_keepAliveDeadlines(self):
        """
        After an answer, a kept-alive connection gets a fresh header
        deadline for its next request.
        """
        site = self.site(headerTimeout=10.0)
        channel, transport = self.connect(site)
        self.clock.advance(9.0)
        channel.dataReceived(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertIn(b"hello anyone", transport.value())
        self.clock.advance(9.0)
        self.assertFalse(transport.disconnected)
        self.clock.advance(1.5)
        self.assertTrue(transport.disconnected)

    def test_largeBodyRefused(self):
        """
        A Content-Length over maxBody is answered 413 at once, before the
        body is read, and the connection closes.
        """
        site = self.site(maxBody=1000)
        channel, transport = self.connect(site)
        channel.dataReceived(b"POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Length: 2147483648\r\n\r\n")
        self.assertTrue(transport.value().startswith(b"HTTP/1.1 413 "))
        self.assertTrue(transport.disconnecting)
        channel.dataReceived(b"x" * 100000)
        self.assertEqual(self.root.bodies, [])
        self.assertEqual(site.refused["too large"], 1)

    def test_lingerAfterRefusal(self):
        """
        Where the transport can close its write side, a refusal does so and
        reads (and drops) what the client still sends for two seconds, then
        aborts, so that the client reads the answer rather than a reset.
        """
        closed = []

        class HalfClosing(StringTransport):
            def loseWriteConnection(self):
                closed.append(True)

        site = self.site(maxBody=1000)
        channel = site.buildProtocol(PEER)
        transport = HalfClosing(peerAddress=PEER)
        channel.makeConnection(transport)
        channel.dataReceived(b"POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n")
        self.assertEqual(closed, [True])
        self.assertFalse(transport.disconnecting)
        channel.dataReceived(b"x" * 4000)
        self.assertEqual(self.root.bodies, [])
        self.clock.advance(2.0)
        self.assertTrue(transport.disconnected)
        channel.connectionLost(None)
        self.assertEqual(self.clock.getDelayedCalls()[1:], [])

    def test_chunkedBodyCapped(self):
        """
        A chunked body growing past maxBody is answered 413 as soon as it
        does.
        """
        site = self.site(maxBody=1000)
        channel, transport = self.connect(site)
        channel.dataReceived(b"POST /RPC2 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        channel.dataReceived(b"400\r\n" + b"x" * 1024 + b"\r\n0\r\n\r\n")
        self.assertTrue(transport.value().startswith(b"HTTP/1.1 413 "))
        self.assertEqual(self.root.bodies, [])

    def test_bodyInMemory(self):
        """
        A body under the cap reaches the resource from memory, never from a
        temporary file, however large.
        """
        site = self.site(maxBody=300000)
        channel, transport = self.connect(site)
        body = b"y" * 200000
        channel.dataReceived(b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        self.assertEqual(self.root.bodies, [(body, io.BytesIO)])


class LoginTests(SiteCase):
    def test_refusedBeforeBody(self):
        """
        With users, a request without valid credentials is answered 401 as
        soon as its headers are in; its body is not read.
        """
        login = _Login()
        site = self.site(login)
        channel, transport = self.connect(site)
        channel.dataReceived(b"POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Length: 500000\r\n\r\n")
        self.assertTrue(transport.value().startswith(b"HTTP/1.1 401 "))
        self.assertIn(b'WWW-Authenticate: Basic realm="t"', transport.value())
        self.assertTrue(transport.disconnecting)
        self.assertEqual(login.calls, [("192.0.2.7", None)])

    def test_readingPausedWhileChecking(self):
        """
        While the credentials are being checked, the connection is not read
        and the resource does not run, even when the body came with the
        headers; once they pass, the user's own tree answers.
        """
        login = _Login(hold=True)
        site = self.site(login)
        channel, transport = self.connect(site)
        token = base64.b64encode(b"alice:right")
        channel.dataReceived(b"POST /RPC2 HTTP/1.1\r\nHost: x\r\nAuthorization: Basic " + token
                             + b"\r\nContent-Length: 3\r\n\r\nabc")
        self.assertEqual(transport.producerState, "paused")
        self.assertEqual(transport.value(), b"")
        login.release()
        self.assertIn(b"hello alice 3", transport.value())

    def test_refusedWhileChecking(self):
        """
        Credentials refused after the check answer 401 and close without the
        resource running.
        """
        login = _Login(hold=True)
        site = self.site(login)
        channel, transport = self.connect(site)
        channel.dataReceived(b"GET / HTTP/1.1\r\nHost: x\r\nAuthorization: Basic eDp5\r\n\r\n")
        login.release()
        self.assertTrue(transport.value().startswith(b"HTTP/1.1 401 "))
        self.assertEqual(site.refused["unauthorized"], 1)


    def test_checkerFailure(self):
        """
        A credential check that fails unexpectedly is logged and answered
        401; the resource does not run.
        """
        login = _Login()
        login.login = lambda source, authorization: defer.fail(RuntimeError("boom"))
        site = self.site(login)
        channel, transport = self.connect(site)
        channel.dataReceived(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertTrue(transport.value().startswith(b"HTTP/1.1 401 "))
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)
        self.assertEqual(self.root.bodies, [])


class AccessLogTests(SiteCase):
    def lines(self):
        events = []
        globalLogPublisher.addObserver(events.append)
        self.addCleanup(globalLogPublisher.removeObserver, events.append)
        return events

    def test_offByDefault(self):
        """
        Without accessLog, requests log nothing.
        """
        events = self.lines()
        site = self.site()
        channel, transport = self.connect(site)
        channel.dataReceived(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertIn(b"hello", transport.value())
        self.assertEqual([e for e in events if "line" in e], [])

    def test_rateLimited(self):
        """
        With accessLog, at most accessLogRate lines a second are logged and
        the rest are counted in one line.
        """
        events = self.lines()
        site = self.site(accessLog=True, accessLogRate=5)
        channel, transport = self.connect(site)
        for _ in range(12):
            channel.dataReceived(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        self.clock.advance(1.0)
        channel.dataReceived(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertEqual(len([e for e in events if "line" in e]), 6)
        self.assertEqual([e["count"] for e in events if "count" in e], [7])
