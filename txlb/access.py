"""
Access control: which client addresses a service accepts, from allow and
deny lists of networks (CIDR: C{10.0.0.0/8}, C{2001:db8::/32}, or a single
address).

The rule, as a firewall administrator expects it: a client in a denied
network is refused; otherwise, when there is an allow list, a client
outside every allowed network is refused; otherwise it is accepted. A deny
always wins over an allow, whatever the order they were written in.
IPv4-mapped IPv6 clients (C{::ffff:10.1.2.3}, as a dual-stack listener
sees IPv4 clients) are matched as the IPv4 address they carry.

Pure: no Twisted here.
"""

import ipaddress

import attr

#: The reason word a refused client is counted under.
DENIED = "denied"


def parseNetwork(text):
    """
    Read one network (C{10.0.0.0/8}, C{::1}, C{192.168.1.7/32}).

    @raise ValueError: with one sentence naming C{text}.
    """
    if not isinstance(text, str):
        raise ValueError(f"a network must be written as a string such as 10.0.0.0/8, not {text!r}")
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        raise ValueError(
            f"{text!r} is not a network: write an address or ADDRESS/PREFIX, such as 10.0.0.0/8"
        ) from None


def _networks(value):
    if isinstance(value, str):
        value = [value]
    return tuple(parseNetwork(n) for n in value)


def clientIP(host):
    """
    The L{ipaddress} address of a client's host string, or None when it is
    not an IP address (a UNIX socket's client).
    """
    if not isinstance(host, str):
        return None
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None
    if ip.version == 6 and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


@attr.s(frozen=True, slots=True)
class AccessList:
    """
    Allowed and denied networks.

    @ivar allow: networks accepted (empty: every network not denied).
    @ivar deny: networks refused.
    """

    allow = attr.ib(default=(), converter=_networks)
    deny = attr.ib(default=(), converter=_networks)

    @property
    def empty(self):
        """
        True when this list accepts everyone.
        """
        return not self.allow and not self.deny

    def permits(self, host):
        """
        True when a client at C{host} (an address string) may connect.
        Clients without an IP address (UNIX sockets, whose access the
        file's permissions decide) are always permitted.
        """
        ip = clientIP(host)
        if ip is None:
            return True
        for network in self.deny:
            if ip in network:
                return False
        if not self.allow:
            return True
        for network in self.allow:
            if ip in network:
                return True
        return False
