"""
Accepting the PROXY protocol on a listener written C{haproxy:ENDPOINT}: the
first bytes of each connection are a header (version 1 or 2) in which the
proxy in front of txlb says who the real client is.

This wraps Twisted's L{HAProxyProtocolWrapper} (whose parsers read the
header) because that wrapper does not fit a load balancer as it is: it
connects the wrapped protocol at once, before the header has arrived, so
the relay would pick a backend for the proxy's address; it waits for a
header forever; it refuses a header split over two reads; and it says
nothing when it closes a connection; its version 1 parser also refuses
the bare C{PROXY UNKNOWN} line and lets malformed addresses through. Here:

  - the relay (the wrapped protocol) is connected only once the header is
    in, so that everything in txlb sees the real client's address;
  - a header that has not arrived within the service's
    C{proxyHeaderTimeout} closes the connection;
  - a missing or malformed header closes the connection at once, with
    what Twisted's version 1 parser lets through checked (addresses that
    are no IP addresses, ports out of range, bytes that raise instead of
    being refused); both are counted by the service
    (L{txlb.proxy.ProxyService.noteRefused}) and logged (one line a second
    at most);
  - a connection waiting for its header counts toward C{maxconn}.

A connection that closes before sending anything is not counted: that is
how a proxy's own TCP health checks look.
"""

import ipaddress

from twisted.internet.address import IPv6Address
from twisted.internet.interfaces import IHalfCloseableProtocol
from twisted.internet.protocol import Protocol
from twisted.logger import Logger
from zope.interface import directlyProvides, implementer, providedBy

from txlb import terminations
from txlb._twisted import haproxyParts

(
    HAProxyProtocolWrapper,
    HAProxyWrappingFactory,
    V1Parser,
    V2Parser,
    InvalidProxyHeader,
    ProxyInfo,
) = haproxyParts()

#: Reason words a refused connection is counted under.
MALFORMED = "proxy-header"
LATE = "proxy-header-timeout"

_V1_START = V1Parser.PROXYSTR + b" "


class _V1Parser(V1Parser):
    """
    Twisted's version 1 parser, taking the bare C{PROXY UNKNOWN} line too
    (what HAProxy sends for a client without an address, which the
    specification says a receiver must accept and Twisted refuses).
    """

    @classmethod
    def parse(cls, line):
        if line == b"PROXY UNKNOWN" or line.startswith(b"PROXY UNKNOWN "):
            return ProxyInfo(line, None, None)
        return V1Parser.parse(line)


def _parserFor(data):
    """
    The parser for a header starting with C{data}: a parser, None while
    too few bytes say which, or False when it is no PROXY header.
    """
    if data[:1] == _V1_START[:1]:
        if len(data) < len(_V1_START):
            return None if _V1_START.startswith(data) else False
        return _V1Parser() if data.startswith(_V1_START) else False
    prefix = V2Parser.PREFIX
    if len(data) < 16:
        # Twisted's version 2 parser wants the fixed 16 bytes at once.
        return None if prefix.startswith(data[:12]) else False
    if data.startswith(prefix) and data[12] & 0xF0 == 0x20:
        return V2Parser()
    return False


def _valid(address):
    """
    False for an address Twisted's version 1 parser let through unchecked:
    a host that is no IP address of the header's family, or a port out of
    range.
    """
    host = getattr(address, "host", None)
    if host is None:
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    family = 6 if isinstance(address, IPv6Address) else 4
    return ip.version == family and 0 <= address.port <= 65535


@implementer(IHalfCloseableProtocol)
class ProxyHeaderProtocol(HAProxyProtocolWrapper):
    """
    One connection on a C{haproxy:} listener: reads the header, then
    relays everything to the wrapped protocol, which sees the real client
    in C{transport.getPeer()}.

    @ivar termination: L{terminations.PROXY_HEADER} once this connection
        was closed for its header, else None.
    """

    termination = None
    _ready = False
    _deadline = None
    _buffer = b""

    def makeConnection(self, transport):
        # As ProtocolWrapper.makeConnection, without connecting the wrapped
        # protocol: that waits for the header.
        directlyProvides(self, providedBy(transport))
        Protocol.makeConnection(self, transport)
        self.factory.registerProtocol(self)

    def connectionMade(self):
        factory = self.factory
        factory.service.connectionOpened()
        self._deadline = factory.clock.callLater(factory.service.proxyHeaderTimeout, self._late)

    def dataReceived(self, data):
        if self._ready:
            self.wrappedProtocol.dataReceived(data)
            return
        if self.termination is not None:
            return
        parser = self._parser
        if parser is None:
            data = self._buffer + data
            parser = _parserFor(data)
            if parser is False:
                self._refuse(MALFORMED, "no PROXY protocol header")
                return
            if parser is None:
                self._buffer = data
                return
            self._buffer = b""
            self._parser = parser
        try:
            info, remaining = parser.feed(data)
        except (InvalidProxyHeader, ValueError):
            # Twisted's version 1 parser lets int() and decode() errors out.
            info, remaining = False, None
        if info is None:
            return
        if info is False or not (_valid(info.source) and _valid(info.destination)):
            self._refuse(MALFORMED, "a malformed PROXY protocol header")
            return
        self._proxyInfo = info
        self._parser = None
        self._ready = True
        # The relay counts the connection from now on; it is counted as
        # waiting for its header until just after, so that a listener at
        # its maxconn does not resume for an instant in between.
        self.wrappedProtocol.makeConnection(self)
        self._headerDone()
        if remaining:
            self.wrappedProtocol.dataReceived(remaining)

    def _headerDone(self):
        deadline, self._deadline = self._deadline, None
        if deadline is not None:
            if deadline.active():
                deadline.cancel()
            self.factory.service.connectionClosed()

    def _late(self):
        self._deadline = None
        self.factory.service.connectionClosed()
        self._refuse(LATE, "no PROXY protocol header within %g s" % self.factory.service.proxyHeaderTimeout)

    def _refuse(self, reason, why):
        self.termination = terminations.PROXY_HEADER
        self.factory.service.noteRefused(reason, self.transport.getPeer(), why)
        self.loseConnection()

    # Half-closes reach the relay once it is connected.

    def readConnectionLost(self):
        if self._ready:
            self.wrappedProtocol.readConnectionLost()
        else:
            self.loseConnection()

    def writeConnectionLost(self):
        if self._ready:
            self.wrappedProtocol.writeConnectionLost()

    def connectionLost(self, reason):
        self._headerDone()
        self.factory.unregisterProtocol(self)
        if self._ready:
            self.wrappedProtocol.connectionLost(reason)
        self.wrappedProtocol = None


class ProxyHeaderFactory(HAProxyWrappingFactory):
    """
    Wraps a service's relay factory for a C{haproxy:} listener.

    @ivar service: the L{txlb.proxy.ProxyService} that counts refusals and
        connections, and says how long a client has to send its header
        (C{proxyHeaderTimeout}, read for each connection).
    @ivar clock: the service's clock, for the deadline.
    """

    protocol = ProxyHeaderProtocol
    noisy = False
    log = Logger()

    def __init__(self, wrappedFactory, service):
        HAProxyWrappingFactory.__init__(self, wrappedFactory)
        self.service = service
        self.clock = service.clock


__all__ = ["ProxyHeaderFactory", "ProxyHeaderProtocol", "MALFORMED", "LATE"]
