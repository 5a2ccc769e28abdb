"""
The built-in checks: C{tcp}, C{send-expect} and C{http}.
"""

import re

import attr
from twisted.plugin import IPlugin
from zope.interface import implementer

from txlb.errors import ConfigError
from txlb.health._probe import Probe, ProbeProtocol
from txlb.interfaces import ICheck, ICheckFactory

MAX_REPLY = 64 * 1024


class _Connected(ProbeProtocol):
    def connectionMade(self):
        self.passed()


@implementer(ICheck)
@attr.s(frozen=True)
class TCPCheck:
    """
    Passes when the host accepts a connection.
    """

    reactor = attr.ib()
    description = attr.ib(default="tcp")

    def check(self, host, timeout):
        return Probe(_Connected).start(self.reactor, host, timeout)


class _SendExpect(ProbeProtocol):
    def __init__(self, send, expect):
        self.send = send
        self.expect = expect
        self.received = b""

    def connectionMade(self):
        if self.send:
            self.transport.write(self.send)

    def dataReceived(self, data):
        self.received += data
        expect = self.expect
        if isinstance(expect, bytes):
            if self.received.startswith(expect):
                self.passed()
            elif not expect.startswith(self.received[: len(expect)]):
                self.failed(f"answered {self.received[:40]!r}, expected {expect!r}")
        elif expect.search(self.received):
            self.passed()
        elif len(self.received) > MAX_REPLY:
            self.failed(f"no match for {expect.pattern!r} in {MAX_REPLY} bytes")

    def lostWhy(self):
        return f"closed after {self.received[:40]!r}, before the expected answer"


def _unescape(text):
    """
    Read backslash escapes (C{\\r}, C{\\n}, C{\\x00}) the way Python would.
    """
    return text.encode("latin-1", "backslashreplace").decode("unicode_escape").encode("latin-1")


@implementer(ICheck)
@attr.s(frozen=True)
class SendExpectCheck:
    """
    Sends bytes and passes when the answer starts with the expected bytes,
    or matches a regular expression, within the timeout.

    @ivar expect: bytes (a prefix) or a compiled bytes pattern.
    """

    reactor = attr.ib()
    send = attr.ib()
    expect = attr.ib()
    description = attr.ib(default="send-expect")

    def check(self, host, timeout):
        return Probe(lambda: _SendExpect(self.send, self.expect)).start(
            self.reactor, host, timeout
        )


class _HTTP(ProbeProtocol):
    def __init__(self, check, hostHeader):
        self.check = check
        self.hostHeader = hostHeader
        self.received = b""
        self.status = None

    def connectionMade(self):
        self.transport.write(
            b"GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: txlb-check\r\n"
            b"Connection: close\r\n\r\n"
            % (self.check.path.encode("latin-1"), self.hostHeader.encode("latin-1"))
        )

    def dataReceived(self, data):
        self.received += data
        if self.status is None:
            line, sep, _ = self.received.partition(b"\r\n")
            if not sep:
                if len(self.received) > 1024:
                    self.failed("sent no HTTP status line")
                return
            parts = line.split(None, 2)
            if len(parts) < 2 or not parts[0].startswith(b"HTTP/") or not parts[1].isdigit():
                self.failed(f"sent {line[:40]!r}, not an HTTP status line")
                return
            self.status = int(parts[1])
            low, high = self.check.status
            if not low <= self.status <= high:
                self.failed(f"answered HTTP {self.status}")
                return
            if self.check.body is None:
                self.passed()
                return
        self._lookForBody()

    def _lookForBody(self):
        if self.check.body in self.received.partition(b"\r\n\r\n")[2]:
            self.passed()
        elif len(self.received) > MAX_REPLY:
            self.failed(f"no {self.check.body!r} in the first {MAX_REPLY} bytes")

    def lostWhy(self):
        if self.status is None:
            return "closed without an HTTP answer"
        return f"answered HTTP {self.status} without {self.check.body!r} in the body"


@implementer(ICheck)
@attr.s(frozen=True)
class HTTPCheck:
    """
    Requests C{path} with a C{Host} header; passes on a status in
    C{status} (inclusive range) and, when C{body} is set, that substring
    in the body.

    @ivar host: the Host header (default: the host's address).
    """

    reactor = attr.ib()
    path = attr.ib()
    status = attr.ib(default=(200, 399))
    body = attr.ib(default=None)
    host = attr.ib(default=None)
    description = attr.ib(default="http")

    def check(self, host, timeout):
        header = self.host or host.address
        return Probe(lambda: _HTTP(self, header)).start(self.reactor, host, timeout)


@implementer(IPlugin, ICheckFactory)
@attr.s(frozen=True)
class CheckFactory:
    """
    A check factory from a function C{make(argument, options, reactor)};
    it provides C{IPlugin}, so an instance in a C{twisted/plugins/} module
    is found as a plugin.
    """

    name = attr.ib()
    description = attr.ib()
    make = attr.ib()
    options = attr.ib(default=())

    def makeCheck(self, argument, options, reactor):
        unknown = sorted(set(options) - set(self.options))
        if unknown:
            known = ", ".join(self.options) or "none"
            raise ConfigError(
                f"check {self.name!r} has no option {unknown[0]!r} (its options: {known})"
            )
        return self.make(argument, dict(options), reactor)


def _makeTCP(argument, options, reactor):
    if argument:
        raise ConfigError(f"check 'tcp' takes no argument, not {argument!r}")
    return TCPCheck(reactor)


def _makeSendExpect(argument, options, reactor):
    send, sep, expect = argument.partition(":")
    if not sep or not expect:
        raise ConfigError(
            f"check 'send-expect:{argument}' must be written send-expect:SEND:EXPECT"
        )
    expectBytes = _unescape(expect)
    if len(expect) > 1 and expect.startswith("/") and expect.endswith("/"):
        try:
            expectBytes = re.compile(_unescape(expect[1:-1]))
        except re.error as e:
            raise ConfigError(f"check 'send-expect': bad regular expression {expect!r}: {e}") from None
    return SendExpectCheck(reactor, _unescape(send), expectBytes, f"send-expect:{argument}")


def _statusRange(text):
    low, sep, high = text.partition("-")
    try:
        low = int(low)
        high = int(high) if sep else low
    except ValueError:
        raise ConfigError(
            f"check 'http' status {text!r} must be a code or a range such as 200-399"
        ) from None
    if not 100 <= low <= high <= 599:
        raise ConfigError(f"check 'http' status {text!r} must lie within 100-599")
    return low, high


def _makeHTTP(argument, options, reactor):
    if not argument.startswith("/") or any(c in argument for c in " \r\n"):
        raise ConfigError(f"check 'http:{argument}' needs a path such as http:/health")
    return HTTPCheck(
        reactor,
        argument,
        status=_statusRange(options.get("status", "200-399")),
        body=options["body"].encode("utf-8") if options.get("body") else None,
        host=options.get("host"),
        description=f"http:{argument}",
    )


tcp = CheckFactory("tcp", "passes when the host accepts a TCP connection", _makeTCP)
sendExpect = CheckFactory(
    "send-expect",
    "send-expect:SEND:EXPECT sends SEND, passes when the answer starts with EXPECT "
    "(or matches /REGEX/)",
    _makeSendExpect,
)
http = CheckFactory(
    "http",
    "http:/PATH requests PATH, passes on status 200-399 (options: status, body, host)",
    _makeHTTP,
    options=("status", "body", "host"),
)
