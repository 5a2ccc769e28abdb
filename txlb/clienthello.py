"""
Reading the server name (SNI) and the offered application protocols (ALPN)
from the first bytes a TLS client sends, its ClientHello, without
decrypting anything (TLS passthrough).

This module is pure (no Twisted): L{HelloReader} is fed the client's bytes
as they arrive and answers once it knows. It is bounded: it keeps at most
one ClientHello's worth of bytes (L{MAX_HELLO} plus the record headers) and
gives up on anything else. A ClientHello split across TCP segments and
across TLS records is read whole.

Why our own: the parsers on PyPI either come with a packet-capture toolkit
(dpkt, scapy: large, and they parse one complete record at a time, not a
hello split over records, and no longer see regular releases) or with a
whole TLS implementation (tlslite-ng); OpenSSL through pyOpenSSL would
parse the hello only as part of a server handshake, which needs a
certificate and answers the client. The part needed here is some 150
lines of length-prefixed fields (RFC 8446 4.1.2, RFC 6066 3, RFC 7301 3.1),
fuzzed with hypothesis in C{tests/test_clienthello.py}.
"""

import attr

#: The largest ClientHello (handshake message body) read; a longer one is
#: taken as "not a ClientHello we read". Real ones are under 2 KiB, or some
#: 8 KiB with many pre-shared keys.
MAX_HELLO = 16 * 1024

_HANDSHAKE = 22
_CLIENT_HELLO = 1
_MAX_RECORD = 16384 + 256
_SERVER_NAME = 0
_ALPN = 16


@attr.s(frozen=True, slots=True)
class ClientHello:
    """
    What a ClientHello shows in the clear.

    @ivar serverName: the host name asked for (lower case, no trailing
        dot), or None when the client sent none.
    @ivar alpn: the application protocols offered, in the client's order
        (a tuple of str, e.g. C{("h2", "http/1.1")}).
    """

    serverName = attr.ib(default=None)
    alpn = attr.ib(default=())


class NotClientHello(ValueError):
    """
    The bytes are not the start of a TLS ClientHello this module reads.
    """


class _Fields:
    """
    Length-prefixed fields read off a bytes object, failing with
    L{NotClientHello} past its end.
    """

    __slots__ = ("data", "at", "end")

    def __init__(self, data, at=0, end=None):
        self.data = data
        self.at = at
        self.end = len(data) if end is None else end

    def integer(self, size):
        at = self.at
        if at + size > self.end:
            raise NotClientHello("truncated field")
        self.at = at + size
        return int.from_bytes(self.data[at : at + size], "big")

    def vector(self, lengthSize):
        length = self.integer(lengthSize)
        at = self.at
        if at + length > self.end:
            raise NotClientHello("a length runs past its enclosing field")
        self.at = at + length
        return _Fields(self.data, at, at + length)

    def skip(self, size):
        if self.at + size > self.end:
            raise NotClientHello("truncated field")
        self.at += size

    def rest(self):
        return bytes(self.data[self.at : self.end])

    def __bool__(self):
        return self.at < self.end


def _serverName(fields):
    names = fields.vector(2)
    while names:
        kind = names.integer(1)
        name = names.vector(2).rest()
        if kind == 0:
            try:
                text = name.decode("ascii")
            except UnicodeDecodeError:
                return None
            text = text.rstrip(".").lower()
            return text or None
    return None


def _alpn(fields):
    protocols = fields.vector(2)
    offered = []
    while protocols:
        offered.append(protocols.vector(1).rest().decode("latin-1"))
    return tuple(offered)


def parseHelloBody(body):
    """
    Read a ClientHello's body (the handshake message without its 4-byte
    header).

    @raise NotClientHello: when it is malformed.
    """
    fields = _Fields(body)
    fields.skip(2 + 32)  # legacy_version, random
    fields.vector(1)  # legacy_session_id
    fields.vector(2)  # cipher_suites
    fields.vector(1)  # legacy_compression_methods
    serverName, alpn = None, ()
    if not fields:
        return ClientHello()
    extensions = fields.vector(2)
    while extensions:
        kind = extensions.integer(2)
        data = extensions.vector(2)
        if kind == _SERVER_NAME:
            serverName = _serverName(data)
        elif kind == _ALPN:
            alpn = _alpn(data)
    return ClientHello(serverName, alpn)


class HelloReader:
    """
    Fed a client's first bytes piece by piece, tells the L{ClientHello}
    they begin with, or that they begin with something else.

    @ivar result: None while more bytes are needed; then a L{ClientHello},
        or L{NOT_HELLO} for anything that is not a ClientHello read here.
    """

    __slots__ = ("_records", "_message", "result", "limit")

    def __init__(self, limit=MAX_HELLO):
        """
        @param limit: the longest ClientHello body read.
        """
        self._records = bytearray()
        self._message = bytearray()
        self.result = None
        self.limit = limit

    def feed(self, data):
        """
        Take more of the client's bytes; return L{result}. Once decided,
        more bytes change nothing.
        """
        if self.result is not None:
            return self.result
        self._records += data
        try:
            self.result = self._advance()
        except NotClientHello:
            self.result = NOT_HELLO
        if self.result is not None:
            self._records = self._message = None
        return self.result

    def _advance(self):
        records, message = self._records, self._message
        while True:
            if len(message) >= 4:
                if message[0] != _CLIENT_HELLO:
                    raise NotClientHello("the first handshake message is not a ClientHello")
                length = int.from_bytes(message[1:4], "big")
                if length > self.limit:
                    raise NotClientHello("the ClientHello is longer than the limit")
                if len(message) >= 4 + length:
                    return parseHelloBody(bytes(message[4 : 4 + length]))
            if records and records[0] != _HANDSHAKE:
                raise NotClientHello("not a TLS handshake record")
            if len(records) >= 3 and records[1] != 3:
                raise NotClientHello("not a TLS record version")
            if len(records) < 5:
                return None
            size = int.from_bytes(records[3:5], "big")
            if size == 0 or size > _MAX_RECORD:
                raise NotClientHello("a TLS record of impossible length")
            if len(records) < 5 + size:
                return None
            message += records[5 : 5 + size]
            del records[: 5 + size]


#: What L{HelloReader} answers for bytes that are not a ClientHello.
NOT_HELLO = ClientHello()


def readClientHello(data):
    """
    The L{ClientHello} that C{data} (complete) begins with.

    @raise NotClientHello: when it does not begin with a whole one.
    """
    reader = HelloReader()
    result = reader.feed(data)
    if result is None or result is NOT_HELLO:
        raise NotClientHello("no complete ClientHello")
    return result


__all__ = ["ClientHello", "HelloReader", "MAX_HELLO", "NOT_HELLO", "NotClientHello", "readClientHello"]
