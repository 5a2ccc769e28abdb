"""
Writing PROXY protocol headers (HAProxy's PROXY protocol, versions 1 and 2)
that tell a backend who the real client is.

Twisted has the reading side only (L{twisted.protocols.haproxy}); this is
the writing side, a pure function of two addresses. An address is anything
with C{host} and C{port} (Twisted's L{IPv4Address} and L{IPv6Address});
anything else (a UNIX socket's address, None) makes the header say
C{UNKNOWN}, and the backend then uses the connection's own addresses.

A version 1 C{UNKNOWN} header is the bare line C{PROXY UNKNOWN\\r\\n} that
HAProxy sends. Twisted's own version 1 parser refuses that line (it expects
the address fields even then); txlb's C{haproxy:} listeners take it
(L{txlb.proxyaccept}).
"""

import ipaddress
import struct

#: The header versions a host may ask for.
VERSIONS = ("v1", "v2")

V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"
_V2_PROXY = 0x21  # version 2, command PROXY
_V2_LOCAL = 0x20  # version 2, command LOCAL
_V2_UNSPEC = 0x00
_V2_TCP4 = 0x11
_V2_TCP6 = 0x21


def _ip(address):
    host = getattr(address, "host", None)
    port = getattr(address, "port", None)
    if not isinstance(host, str) or not isinstance(port, int):
        return None
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]), port
    except ValueError:
        return None


def _pair(source, destination):
    """
    The two addresses as one family: C{(4 or 6, (ip, port), (ip, port))},
    or None for UNKNOWN. IPv4-mapped IPv6 addresses count as IPv4 when both
    are; an IPv4 address beside an IPv6 one is written IPv4-mapped.
    """
    a, b = _ip(source), _ip(destination)
    if a is None or b is None:
        return None

    def v4(ip):
        if ip.version == 4:
            return ip
        return ip.ipv4_mapped

    if v4(a[0]) is not None and v4(b[0]) is not None:
        return 4, (v4(a[0]), a[1]), (v4(b[0]), b[1])

    def v6(ip):
        if ip.version == 6:
            return ip
        return ipaddress.IPv6Address("::ffff:" + str(ip))

    return 6, (v6(a[0]), a[1]), (v6(b[0]), b[1])


def v1(source, destination):
    """
    A version 1 (text) header for a connection from C{source} to
    C{destination}.
    """
    pair = _pair(source, destination)
    if pair is None:
        return b"PROXY UNKNOWN\r\n"
    family, (sip, sport), (dip, dport) = pair
    return b"PROXY TCP%d %s %s %d %d\r\n" % (
        family,
        str(sip).encode("ascii"),
        str(dip).encode("ascii"),
        sport,
        dport,
    )


def v2(source, destination):
    """
    A version 2 (binary) header for a connection from C{source} to
    C{destination}.
    """
    pair = _pair(source, destination)
    if pair is None:
        return V2_SIGNATURE + struct.pack("!BBH", _V2_PROXY, _V2_UNSPEC, 0)
    family, (sip, sport), (dip, dport) = pair
    body = struct.pack(
        "!%ds%dsHH" % ((4, 4) if family == 4 else (16, 16)),
        sip.packed,
        dip.packed,
        sport,
        dport,
    )
    kind = _V2_TCP4 if family == 4 else _V2_TCP6
    return V2_SIGNATURE + struct.pack("!BBH", _V2_PROXY, kind, len(body)) + body


def local(version):
    """
    The header of C{version} for a connection txlb makes on its own (a
    health check), not on a client's behalf: version 2's C{LOCAL} command,
    version 1's C{UNKNOWN} line. The host then uses the connection's own
    addresses.

    @raise ValueError: for an unknown version.
    """
    if version == "v1":
        return b"PROXY UNKNOWN\r\n"
    if version == "v2":
        return V2_SIGNATURE + struct.pack("!BBH", _V2_LOCAL, _V2_UNSPEC, 0)
    raise ValueError(f"PROXY protocol version must be v1 or v2, not {version!r}")


_ENCODERS = {"v1": v1, "v2": v2}


def encode(version, source, destination):
    """
    The header of C{version} (C{"v1"} or C{"v2"}) for a connection from
    C{source} (the real client) to C{destination} (the listener it reached).

    @raise ValueError: for an unknown version.
    """
    try:
        encoder = _ENCODERS[version]
    except KeyError:
        raise ValueError(f"PROXY protocol version must be v1 or v2, not {version!r}") from None
    return encoder(source, destination)
