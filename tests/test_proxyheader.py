"""
Unit tests for L{txlb.proxyheader}: the PROXY protocol headers txlb sends,
checked by reading them back with Twisted's own parsers.
"""

import ipaddress

from hypothesis import given
from hypothesis import strategies as st
from twisted.internet.address import IPv4Address, IPv6Address, UNIXAddress
from twisted.protocols.haproxy._v1parser import V1Parser
from twisted.protocols.haproxy._v2parser import V2Parser
from twisted.trial.unittest import SynchronousTestCase

from txlb import proxyheader

ports = st.integers(min_value=0, max_value=65535)
ipv4 = st.ip_addresses(v=4).map(str)
ipv6 = st.ip_addresses(v=6).filter(lambda ip: ip.ipv4_mapped is None).map(str)


def v4(host, port):
    return IPv4Address("TCP", host, port)


def v6(host, port):
    return IPv6Address("TCP", host, port)


def parse(version, header, rest=b""):
    parser = V1Parser() if version == "v1" else V2Parser()
    info, remaining = parser.feed(header + rest)
    return info, remaining


def same(address):
    return ipaddress.ip_address(address.host), address.port


class RoundTripTests(SynchronousTestCase):
    @given(st.sampled_from(proxyheader.VERSIONS), ipv4, ports, ipv4, ports, st.binary(max_size=64))
    def test_tcp4(self, version, shost, sport, dhost, dport, rest):
        """
        An IPv4 header read by Twisted's parser of the same version gives
        back both addresses and ports, and leaves what follows untouched.
        """
        header = proxyheader.encode(version, v4(shost, sport), v4(dhost, dport))
        info, remaining = parse(version, header, rest)
        self.assertIsInstance(info.source, IPv4Address)
        self.assertEqual(same(info.source), same(v4(shost, sport)))
        self.assertEqual(same(info.destination), same(v4(dhost, dport)))
        self.assertEqual(remaining, rest)

    @given(st.sampled_from(proxyheader.VERSIONS), ipv6, ports, ipv6, ports)
    def test_tcp6(self, version, shost, sport, dhost, dport):
        """
        An IPv6 header reads back as the same IPv6 addresses and ports.
        """
        header = proxyheader.encode(version, v6(shost, sport), v6(dhost, dport))
        info, remaining = parse(version, header)
        self.assertIsInstance(info.source, IPv6Address)
        self.assertEqual(same(info.source), same(v6(shost, sport)))
        self.assertEqual(same(info.destination), same(v6(dhost, dport)))
        self.assertEqual(remaining, b"")

    @given(st.sampled_from(proxyheader.VERSIONS), ipv4, ports, ipv6, ports)
    def test_mixedFamilies(self, version, shost, sport, dhost, dport):
        """
        An IPv4 client of an IPv6 listener is written IPv4-mapped in a
        TCP6 header.
        """
        header = proxyheader.encode(version, v4(shost, sport), v6(dhost, dport))
        info, _ = parse(version, header)
        source = ipaddress.ip_address(info.source.host)
        self.assertEqual((source.ipv4_mapped, info.source.port), (ipaddress.ip_address(shost), sport))
        self.assertEqual(same(info.destination), same(v6(dhost, dport)))

    @given(st.sampled_from(proxyheader.VERSIONS), ipv4, ports, ipv4, ports)
    def test_mappedBothWays(self, version, shost, sport, dhost, dport):
        """
        IPv4-mapped addresses on both sides (a dual-stack listener) are
        sent as TCP4.
        """
        header = proxyheader.encode(
            version, v6("::ffff:" + shost, sport), v6("::ffff:" + dhost, dport)
        )
        info, _ = parse(version, header)
        self.assertIsInstance(info.source, IPv4Address)
        self.assertEqual(same(info.source), same(v4(shost, sport)))
        self.assertEqual(same(info.destination), same(v4(dhost, dport)))

    def test_unknownV2(self):
        """
        A UNIX listener's client makes a v2 header with no addresses,
        which Twisted reads as such.
        """
        header = proxyheader.v2(UNIXAddress(None), UNIXAddress(b"/run/lb.sock"))
        info, remaining = parse("v2", header, b"data")
        self.assertEqual((info.source, info.destination, remaining), (None, None, b"data"))
        self.assertEqual(len(header), 16)


class ExactBytesTests(SynchronousTestCase):
    def test_v1Text(self):
        """
        Version 1 is the text line of the specification.
        """
        self.assertEqual(
            proxyheader.v1(v4("192.0.2.7", 51000), v4("10.0.0.1", 8080)),
            b"PROXY TCP4 192.0.2.7 10.0.0.1 51000 8080\r\n",
        )
        self.assertEqual(
            proxyheader.v1(v6("2001:db8::7", 1), v6("::1", 2)),
            b"PROXY TCP6 2001:db8::7 ::1 1 2\r\n",
        )

    def test_v1Unknown(self):
        """
        A client without an IP address makes HAProxy's bare UNKNOWN line.
        """
        self.assertEqual(proxyheader.v1(UNIXAddress(None), None), b"PROXY UNKNOWN\r\n")

    def test_v2Binary(self):
        """
        Version 2 is the signature, version/command 0x21, family TCP4
        (0x11), the length, then the packed addresses and ports.
        """
        self.assertEqual(
            proxyheader.v2(v4("192.0.2.7", 51000), v4("10.0.0.1", 8080)),
            b"\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x0c"
            b"\xc0\x00\x02\x07\x0a\x00\x00\x01\xc7\x38\x1f\x90",
        )

    def test_local(self):
        """
        A health check's header says the connection is txlb's own: v2's
        LOCAL command (read by Twisted as no addresses), v1's UNKNOWN line.
        """
        header = proxyheader.local("v2")
        self.assertEqual(header, b"\r\n\r\n\x00\r\nQUIT\n\x20\x00\x00\x00")
        info, _ = parse("v2", header)
        self.assertEqual((info.source, info.destination), (None, None))
        self.assertEqual(proxyheader.local("v1"), b"PROXY UNKNOWN\r\n")
        self.assertRaises(ValueError, proxyheader.local, "v9")

    def test_unknownVersion(self):
        """
        Any version other than v1 and v2 is refused.
        """
        self.assertRaises(ValueError, proxyheader.encode, "v3", None, None)
