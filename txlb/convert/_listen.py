"""
pythondirector's listening addresses (C{host:port}, C{*:port}) as Twisted
server endpoint strings, and what the admin's safety rule needs to know of
them.
"""

import re

from twisted.internet.abstract import isIPAddress, isIPv6Address

from txlb.address import ENDPOINT_PREFIXES, isHostname

_ALL_INTERFACES = ("", "*", "0.0.0.0")

#: The key and certificate pythondirector's secure admin read (one file).
SERVER_PEM = "server.pem"


def serverEndpoint(text, secure=False):
    """
    The server endpoint string for C{host:port}: every interface for
    C{*}, an empty host or C{0.0.0.0} (C{[::]} for IPv6), C{127.0.0.1} for
    C{localhost}; HTTPS from L{SERVER_PEM} when C{secure}. Endpoint strings
    pass through.

    @raise ValueError: one sentence, when C{text} is not C{host:port}.
    """
    if text.startswith(ENDPOINT_PREFIXES):
        return text
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"{text!r} is not host:port (such as *:8080 or 127.0.0.1:8080)")
    kind, interface = ("ssl" if secure else "tcp"), None
    if host.startswith("[") and host.endswith("]") and isIPv6Address(host[1:-1]):
        host = host[1:-1]
        kind = "ssl" if secure else "tcp6"
        interface = None if host == "::" and not secure else host
    elif host == "localhost":
        interface = "127.0.0.1"
    elif host not in _ALL_INTERFACES:
        if not (isIPAddress(host) or isHostname(host)):
            raise ValueError(f"{text!r} names no host or address to listen on")
        interface = host
    parts = [kind, str(int(port))]
    if secure:
        parts.append("privateKey=" + SERVER_PEM)
    if interface is not None:
        parts.append("interface=" + interface.replace(":", "\\:"))
    return ":".join(parts)


def _split(endpoint):
    return re.split(r"(?<!\\):", endpoint)


def isLocal(endpoint):
    """
    True when the endpoint string only accepts connections from this
    machine (a UNIX socket, or a loopback interface).
    """
    if endpoint.startswith("unix:"):
        return True
    for part in _split(endpoint):
        if part.startswith("interface="):
            interface = part[len("interface="):].replace("\\", "")
            return interface == "::1" or interface.startswith("127.")
    return False


def loopback(endpoint):
    """
    The same endpoint on C{127.0.0.1} only.
    """
    parts = [p for p in _split(endpoint) if not p.startswith("interface=")]
    if parts[0] == "tcp6":
        parts[0] = "tcp"
    return ":".join(parts + ["interface=127.0.0.1"])
