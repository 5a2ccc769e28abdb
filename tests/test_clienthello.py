"""
Tests for L{txlb.clienthello}: real ClientHellos (made by Python's C{ssl}
on memory BIOs) read whole, split across segments and across records;
anything else read as "not a ClientHello", never an exception, and never
more than one ClientHello's worth of bytes kept.
"""

import ssl

from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from txlb.clienthello import (
    MAX_HELLO,
    NOT_HELLO,
    ClientHello,
    HelloReader,
    NotClientHello,
    readClientHello,
)


def clientHello(serverName=None, alpn=()):
    """
    The first bytes a Python TLS client sends for C{serverName} and C{alpn}.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    if alpn:
        context.set_alpn_protocols(list(alpn))
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = context.wrap_bio(incoming, outgoing, server_hostname=serverName)
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


def records(message, sizes):
    """
    C{message} (a handshake message) cut into TLS handshake records of the
    given sizes (the last one takes what is left).
    """
    out, at = b"", 0
    for size in sizes:
        if at >= len(message):
            break
        piece = message[at : at + size]
        out += b"\x16\x03\x01" + len(piece).to_bytes(2, "big") + piece
        at += len(piece)
    if at < len(message):
        piece = message[at:]
        out += b"\x16\x03\x01" + len(piece).to_bytes(2, "big") + piece
    return out


def feedAll(reader, data, cuts):
    """
    Feed C{data} to C{reader} in pieces cut at C{cuts}; the last answer.
    """
    result, at = None, 0
    for cut in sorted(set(cuts)) + [len(data)]:
        if cut <= at:
            continue
        result = reader.feed(data[at:cut])
        at = cut
    return result


NAMES = st.from_regex(r"[a-z][a-z0-9-]{0,20}(\.[a-z][a-z0-9-]{0,20}){0,3}", fullmatch=True)
PROTOCOLS = st.lists(st.sampled_from(["h2", "http/1.1", "imap", "acme-tls/1"]), unique=True, max_size=3)

SAMPLE = clientHello("a.test", ["h2", "http/1.1"])


class ReadTests(SynchronousTestCase):
    def test_serverNameAndProtocols(self):
        """
        The server name (lower case, without a trailing dot) and the offered
        protocols, in order, are read from a real ClientHello.
        """
        self.assertEqual(
            readClientHello(clientHello("Shop.Example.COM.", ["h2", "http/1.1"])),
            ClientHello("shop.example.com", ("h2", "http/1.1")),
        )

    def test_noServerName(self):
        """
        A ClientHello without the server name extension reads as no name and
        no protocols.
        """
        self.assertEqual(readClientHello(clientHello(None)), ClientHello(None, ()))

    def test_ipAddressName(self):
        """
        A client connecting to an IP address sends no server name.
        """
        self.assertIsNone(readClientHello(clientHello("127.0.0.1")).serverName)

    def test_needsMore(self):
        """
        Until the whole ClientHello has arrived the reader answers None.
        """
        reader = HelloReader()
        self.assertIsNone(reader.feed(SAMPLE[:-1]))
        self.assertEqual(reader.feed(SAMPLE[-1:]).serverName, "a.test")

    def test_decidedOnce(self):
        """
        Once decided, further bytes change nothing.
        """
        reader = HelloReader()
        result = reader.feed(SAMPLE)
        self.assertIs(reader.feed(b"more"), result)

    def test_plainText(self):
        """
        A plain-text protocol is not a ClientHello, decided on its first byte.
        """
        self.assertIs(HelloReader().feed(b"G"), NOT_HELLO)

    def test_otherHandshake(self):
        """
        A handshake record holding another message than a ClientHello is not
        read as one.
        """
        self.assertIs(HelloReader().feed(b"\x16\x03\x01\x00\x04\x02\x00\x00\x00"), NOT_HELLO)

    def test_tooLong(self):
        """
        A ClientHello declaring more than the limit is given up on at once,
        without waiting for its bytes.
        """
        header = b"\x01" + (MAX_HELLO + 1).to_bytes(3, "big")
        self.assertIs(HelloReader().feed(records(header, [4])), NOT_HELLO)

    def test_emptyRecord(self):
        """
        A record of length 0 is not part of a ClientHello.
        """
        self.assertIs(HelloReader().feed(b"\x16\x03\x01\x00\x00"), NOT_HELLO)

    def test_readClientHelloIncomplete(self):
        """
        L{readClientHello} raises L{NotClientHello} for an incomplete one.
        """
        self.assertRaises(NotClientHello, readClientHello, SAMPLE[:20])


class PropertyTests(SynchronousTestCase):
    @settings(max_examples=60, deadline=None)
    @given(NAMES, PROTOCOLS, st.lists(st.integers(min_value=1, max_value=600), max_size=8))
    def test_splitSegments(self, name, alpn, cuts):
        """
        A ClientHello arriving in any number of TCP segments cut anywhere is
        read the same.
        """
        data = clientHello(name, alpn)
        result = feedAll(HelloReader(), data, [c % len(data) for c in cuts])
        self.assertEqual(result, ClientHello(name, tuple(alpn)))

    @settings(max_examples=60, deadline=None)
    @given(NAMES, st.lists(st.integers(min_value=1, max_value=300), min_size=1, max_size=10))
    def test_splitRecords(self, name, sizes):
        """
        A ClientHello split across several TLS records is read whole.
        """
        data = clientHello(name, ["h2"])
        message = b""
        rest = data
        while rest:
            size = int.from_bytes(rest[3:5], "big")
            message += rest[5 : 5 + size]
            rest = rest[5 + size :]
        self.assertEqual(readClientHello(records(message, sizes)), ClientHello(name, ("h2",)))

    @settings(max_examples=300, deadline=None)
    @given(st.binary(max_size=3000), st.lists(st.integers(min_value=0, max_value=3000), max_size=6))
    def test_anyBytes(self, data, cuts):
        """
        Any bytes at all, in any pieces: the reader never raises, and
        answers a L{ClientHello} (or None while a hello could still be
        coming).
        """
        result = feedAll(HelloReader(), data, cuts)
        self.assertTrue(result is None or isinstance(result, ClientHello))

    @settings(max_examples=300, deadline=None)
    @given(st.integers(min_value=0, max_value=len(SAMPLE) - 1), st.integers(min_value=0, max_value=255))
    def test_mutated(self, at, value):
        """
        A real ClientHello with any one byte changed still never makes the
        reader raise.
        """
        data = bytearray(SAMPLE)
        data[at] = value
        result = HelloReader().feed(bytes(data))
        self.assertTrue(result is None or isinstance(result, ClientHello))

    @settings(max_examples=100, deadline=None)
    @given(st.binary(min_size=1, max_size=4096))
    def test_bounded(self, chunk):
        """
        Fed a stream of handshake records that never completes a hello, the
        reader decides before it has been given more than one ClientHello's
        worth of bytes (the limit, plus the record headers and one record).
        """
        reader = HelloReader()
        header = b"\x01" + MAX_HELLO.to_bytes(3, "big")
        fed = 0
        stream = records(header + chunk * (MAX_HELLO // len(chunk) + 2), [16384] * 8)
        for i in range(0, len(stream), 1000):
            fed += len(stream[i : i + 1000])
            if reader.feed(stream[i : i + 1000]) is not None:
                break
        self.assertIsNotNone(reader.result)
        self.assertLessEqual(fed, MAX_HELLO + 4 + 5 * 3 + 1000)
