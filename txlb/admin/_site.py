"""
The admin's HTTP server: Twisted's L{Site} with the limits of
L{txlb.admin._limits.AdminLimits} enforced before any resource runs.

  - When the admin already has C{maxConnections} open, a new connection
    takes the place of the oldest one still waiting for its request's
    headers (that one is aborted); when all are busy with requests, the new
    one is closed as soon as it is accepted. Any connection is
    refused while fewer than C{descriptorReserve} descriptors are left to
    the process.
  - A request's headers must arrive within C{headerTimeout} seconds of the
    connection's start (or of the previous answer), and the whole request
    must be answered within C{requestTimeout}; else the connection is
    aborted.
  - A C{Content-Length} above C{maxBody} is answered 413 before the body is
    read; a chunked body that grows past it likewise; bodies are kept in
    memory, never in a temporary file.
  - With users, the credentials are checked as soon as the headers are in,
    reading nothing more meanwhile; a refusal (401, 429) closes the
    connection without reading the body.
  - After a refusal, the admin closes its side and drops whatever the
    client still sends for L{LINGER} seconds (a body it sent without
    waiting), then aborts: the client reads the answer instead of a reset.

Each refusal is counted in L{AdminSite.refused} by reason and logged one
line per burst; the access log is off unless asked for, and then at most
C{accessLogRate} lines a second.
"""

import collections
import io

from twisted.logger import Logger
from twisted.web import http
from twisted.web.resource import getChildForRequest
from twisted.web.server import Request, Site

from txlb._ratelimit import RateLimiter, sinceLast
from txlb.admin._limits import AdminLimits, freeDescriptors
from txlb.admin._login import Refused

_REASONS = {401: b"Unauthorized", 408: b"Request Timeout", 413: b"Payload Too Large", 429: b"Too Many Requests"}
REFUSALS = ("connections", "evicted", "descriptors", "header timeout", "request timeout", "too large",
            "unauthorized", "throttled")
#: Seconds a connection may wait for its request's headers before a new
#: connection may take its place when the admin has too many. Zero: a
#: client that sends its request as it connects is served under any
#: flood slower than maxConnections new connections per round trip.
PATIENCE = 0.0
#: Seconds a refused connection's remaining request is read and dropped
#: after the answer, so that the client gets to read the answer.
LINGER = 2.0


class AdminRequest(Request):
    """
    A request whose body is kept in memory and may not pass the site's
    C{maxBody}.
    """

    adminRoot = None

    def gotLength(self, length):
        self.content = io.BytesIO()

    def handleContentChunk(self, data):
        if self.channel.refusing:
            return
        if self.content.tell() + len(data) > self.channel.site.limits.maxBody:
            self.channel.refuse(413, "too large")
            return
        self.content.write(data)


class AdminChannel(http.HTTPChannel):
    """
    An HTTP connection to the admin, held to its site's limits.
    """

    refusing = False
    evicted = False
    waitingSince = None
    _login = None
    _waiting = False
    _headerTimer = None
    _requestTimer = None
    _lingerTimer = None

    def connectionMade(self):
        http.HTTPChannel.connectionMade(self)
        self.site.opened(self)
        self._startDeadlines()

    def connectionLost(self, reason):
        self._cancel()
        self.site.closed(self)
        http.HTTPChannel.connectionLost(self, reason)

    def dataReceived(self, data):
        if not self.refusing:
            http.HTTPChannel.dataReceived(self, data)

    # Deadlines

    def _startDeadlines(self):
        self._cancel()
        limits, clock = self.site.limits, self.site.clock
        self.waitingSince = clock.seconds()
        self._headerTimer = clock.callLater(limits.headerTimeout, self._expired, "header timeout")
        self._requestTimer = clock.callLater(limits.requestTimeout, self._expired, "request timeout")

    def _cancel(self, which=("_headerTimer", "_requestTimer", "_lingerTimer")):
        for name in which:
            timer = getattr(self, name)
            setattr(self, name, None)
            if timer is not None and timer.active():
                timer.cancel()

    def _expired(self, reason):
        self._headerTimer = self._requestTimer = None
        self._cancel()
        self.site.count(reason, self.transport.getPeer())
        self.refusing = True
        self.transport.abortConnection()

    def requestDone(self, request):
        if self.persistent:
            self._startDeadlines()
        else:
            self._cancel(("_headerTimer",))
        http.HTTPChannel.requestDone(self, request)

    # Refusing early

    def refuse(self, status, reason, headers=()):
        """
        Answer C{status} now and close, reading nothing more.
        """
        if self.refusing:
            return
        self.refusing = True
        self.site.count(reason, self.transport.getPeer())
        body = b"%d %s\n" % (status, _REASONS[status])
        lines = [b"HTTP/1.1 %d %s" % (status, _REASONS[status]), b"Content-Type: text/plain",
                 b"Content-Length: %d" % len(body), b"Connection: close"]
        lines += [name + b": " + value for name, value in headers]
        self.transport.write(b"\r\n".join(lines) + b"\r\n\r\n" + body)
        # Looked up on the class: a TLS wrapper would pass the call on to the
        # TCP connection under it, past TLS.
        closeWrite = getattr(type(self.transport), "loseWriteConnection", None)
        if closeWrite is None:
            self.transport.loseConnection()
            return
        # Closing with the client's body unread would reset the connection
        # and could destroy the answer before the client reads it: close our
        # side, read and drop what still comes for a moment, then abort.
        self._cancel()
        self._lingerTimer = self.site.clock.callLater(LINGER, self.transport.abortConnection)
        self.transport.resumeProducing()
        closeWrite(self.transport)

    def allHeadersReceived(self):
        self._cancel(("_headerTimer",))
        self.waitingSince = None
        if self.length is not None and self.length > self.site.limits.maxBody:
            self.refuse(413, "too large")
            return
        http.HTTPChannel.allHeadersReceived(self)
        login = self.site.login
        if login is None:
            return
        request = self.requests[-1]
        self.transport.pauseProducing()
        self._login = d = login.login(self.site.source(self.transport.getPeer()),
                                      request.requestHeaders.getRawHeaders(b"authorization", [None])[0])
        d.addCallbacks(self._loggedIn, self._refused, callbackArgs=(request,))

    def _loggedIn(self, root, request):
        self._login = None
        if self.refusing:
            return
        request.adminRoot = root
        self.transport.resumeProducing()
        if self._waiting:
            self._waiting = False
            http.HTTPChannel.allContentReceived(self)

    def _refused(self, failure):
        self._login = None
        if not failure.check(Refused):
            self.site.events.failure("admin: checking credentials failed", failure)
            self.refuse(401, "unauthorized", Refused.CHALLENGE)
            return
        self.refuse(failure.value.status, "unauthorized" if failure.value.status == 401 else "throttled",
                    failure.value.headers)

    def allContentReceived(self):
        if self.refusing:
            return
        if self._login is not None:
            self._waiting = True
            return
        http.HTTPChannel.allContentReceived(self)


class AdminSite(Site):
    """
    The admin's L{Site}: see the module's docstring.

    @param login: an L{txlb.admin._login.AdminLogin}, or None when the
        admin has no users (it is then only on loopback).
    @param free: a no-argument callable giving the descriptors still free
        to the process (None when unknown).
    """

    events = Logger()
    protocol = AdminChannel
    requestFactory = AdminRequest
    displayTracebacks = False
    noisy = False

    def __init__(self, resource, clock, limits=None, login=None, free=freeDescriptors):
        Site.__init__(self, resource, timeout=None, reactor=clock, parsePOSTFormSubmission=False)
        self.clock = clock
        self.limits = limits if limits is not None else AdminLimits()
        self.login = login
        self.free = free
        self.open = collections.OrderedDict()
        self._evicting = 0
        self.refused = collections.Counter()
        self._refusalLog = RateLimiter(clock, 10.0)
        self._window = None
        self._lines = 0
        self._dropped = 0

    @staticmethod
    def source(address):
        """
        The key a client's failures are counted under: its IP address, or
        C{"local"} over a UNIX socket.
        """
        return getattr(address, "host", None) or "local"

    def buildProtocol(self, addr):
        if len(self.open) - self._evicting >= self.limits.maxConnections and not self._evict():
            self.count("connections", addr)
            return None
        free = self.free()
        if free is not None and free < self.limits.descriptorReserve:
            self.count("descriptors", addr)
            return None
        return Site.buildProtocol(self, addr)

    def _evict(self):
        """
        Make room by aborting the oldest connection that has been waiting
        for request headers for at least L{PATIENCE} seconds; False when
        none has. An aborted connection closes on the reactor's next turn:
        until then it still counts, and no more than C{maxConnections} may
        be closing at once, so the admin never holds more than twice that.
        """
        if self._evicting >= self.limits.maxConnections:
            return False
        now = self.clock.seconds()
        for channel in self.open:
            if channel.evicted or channel.waitingSince is None or now - channel.waitingSince < PATIENCE:
                continue
            channel.evicted = channel.refusing = True
            self._evicting += 1
            self.count("evicted", channel.transport.getPeer())
            channel.transport.abortConnection()
            return True
        return False

    def opened(self, channel):
        self.open[channel] = None

    def closed(self, channel):
        if channel in self.open:
            del self.open[channel]
            if channel.evicted:
                self._evicting -= 1

    def count(self, reason, peer):
        """
        Count one refusal; log it unless one was logged in the last 10 s.
        """
        self.refused[reason] += 1
        suppressed = self._refusalLog.allow()
        if suppressed is not None:
            self.events.warn(
                "admin: refused {peer}: {reason}{more}",
                peer=self.source(peer), reason=_DESCRIBE[reason], more=sinceLast(suppressed),
            )

    def getResourceFor(self, request):
        if self.login is not None:
            request.site = self
            request.sitepath = list(request.prepath)
            return getChildForRequest(request.adminRoot, request)
        return Site.getResourceFor(self, request)

    def log(self, request):
        if not self.limits.accessLog:
            return
        second = int(self.clock.seconds())
        if second != self._window:
            if self._dropped:
                self.events.info("admin: {count} access log lines left out (more than {rate} a second)",
                                 count=self._dropped, rate=self.limits.accessLogRate)
            self._window, self._lines, self._dropped = second, 0, 0
        if self._lines >= self.limits.accessLogRate:
            self._dropped += 1
            return
        self._lines += 1
        self.events.info("{line}", line=self._logFormatter(self._logDateTime, request))


_DESCRIBE = {
    "connections": "too many admin connections open",
    "evicted": "closed to make room: it sent no request headers",
    "descriptors": "too few file descriptors left for the relay",
    "header timeout": "its request headers took too long",
    "request timeout": "its request took too long",
    "too large": "its request body is over the limit",
    "unauthorized": "no valid credentials",
    "throttled": "too many failed logins",
}
