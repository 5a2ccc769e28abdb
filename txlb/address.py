"""
Backend and listener addresses: Twisted endpoint strings, plus the short
C{HOST:PORT} and C{[IPv6]:PORT} forms for backends.
"""

from twisted.internet.abstract import isIPAddress, isIPv6Address
from twisted.internet.endpoints import clientFromString, serverFromString
from zope.interface import implementer

from txlb.errors import ConfigError
from txlb.hostnames import ResolvingConnector
from txlb.interfaces import IConnector
from txlb.tls import tlsConnector

#: How a client endpoint string starts (other than C{HOST:PORT}).
ENDPOINT_PREFIXES = ("tcp:", "tcp6:", "unix:", "ssl:", "tls:", "ssl6:")


def splitHostPort(address):
    """
    Split C{HOST:PORT} or C{[IPv6]:PORT}; return None when C{address} is not
    of that form.
    """
    if address.startswith("["):
        host, sep, port = address[1:].partition("]:")
        if not sep or not isIPv6Address(host):
            return None
    else:
        host, sep, port = address.rpartition(":")
        if not sep or not host or ":" in host:
            return None
    if not port.isdigit() or not 0 < int(port) < 65536:
        return None
    return host, int(port)


@implementer(IConnector)
class TCPConnector:
    """
    Connects to a host and port with C{reactor.connectTCP}: the lean path for
    the common C{HOST:PORT} form.
    """

    __slots__ = ("description", "host", "port", "plain")

    def __init__(self, description, host, port):
        """
        @ivar plain: True when C{host} is an IP address: the lean path
            (L{txlb.lean}) can connect without resolving a name.
        """
        self.description = description
        self.host = host
        self.port = port
        self.plain = isIPAddress(host) or isIPv6Address(host)

    def connect(self, reactor, factory):
        return reactor.connectTCP(self.host, self.port, factory, timeout=None)


class _EndpointAttempt:
    """
    A connection attempt through an endpoint, shaped like a connector.
    """

    __slots__ = ("_deferred",)

    def __init__(self, endpoint, factory):
        self._deferred = endpoint.connect(factory)
        self._deferred.addErrback(self._failed, factory)

    def _failed(self, reason, factory):
        factory.clientConnectionFailed(self, reason)

    def stopConnecting(self):
        if not self._deferred.called:
            self._deferred.cancel()


@implementer(IConnector)
class EndpointConnector:
    """
    Connects through any Twisted client endpoint string (C{unix:}, C{tls:},
    C{tcp:host=...}).
    """

    __slots__ = ("description", "_endpoint")

    #: Only Twisted's transports connect through an endpoint.
    plain = False

    def __init__(self, description, endpoint):
        self.description = description
        self._endpoint = endpoint

    def connect(self, reactor, factory):
        return _EndpointAttempt(self._endpoint, factory)


def backendConnector(address, reactor, tls=None, names=None):
    """
    Turn a backend address into an L{IConnector}.

    @param address: C{HOST:PORT}, C{[IPv6]:PORT} or a client endpoint string.
    @param tls: a L{txlb.config.ClientTLS} to speak TLS to C{HOST:PORT}
        (L{txlb.tls.TLSConnector}), or None.
    @param names: the L{txlb.hostnames.HostNames} that resolves a C{HOST}
        written as a name (without blocking, cached); None to let
        C{connectTCP} resolve it at each connection.
    @raise ConfigError: when C{address} is none of these.
    """
    if not isinstance(address, str) or not address:
        raise ConfigError(f"backend address {address!r} must be a non-empty string")
    hostPort = splitHostPort(address)
    if hostPort is not None:
        host, port = hostPort
        if not (isIPAddress(host) or isIPv6Address(host) or isHostname(host)):
            raise ConfigError(f"backend address {address!r} has a bad host name")
        if tls is not None:
            return tlsConnector(address, host, port, tls, reactor)
        if names is not None and not (isIPAddress(host) or isIPv6Address(host)):
            return ResolvingConnector(address, host, port, names.resolved(host))
        return TCPConnector(address, host, port)
    if tls is not None:
        raise ConfigError(f"backend address {address!r}: tls needs the HOST:PORT form")
    head, _, tail = address.rpartition(":")
    if tail.isdigit() and not address.startswith(ENDPOINT_PREFIXES):
        raise ConfigError(f"backend address {address!r} needs a port from 1 to 65535")
    if address.startswith(ENDPOINT_PREFIXES) or ":" in address.split("=", 1)[0]:
        try:
            endpoint = clientFromString(reactor, address)
        except Exception as e:
            raise ConfigError(
                f"backend address {address!r} is not a valid endpoint: {_reason(e)}"
            ) from None
        return EndpointConnector(address, endpoint)
    raise ConfigError(
        f"backend address {address!r} is neither HOST:PORT, [IPv6]:PORT "
        "nor an endpoint string such as tcp:host=HOST:port=PORT"
    )


def isHostname(host):
    """
    True when C{host} is a well-formed DNS name (letters, digits and
    hyphens in labels of 1 to 63 characters).
    """
    labels = host.rstrip(".").split(".")
    return all(
        0 < len(label) < 64 and label.replace("-", "").isalnum() for label in labels
    )


def listenEndpoint(description, reactor):
    """
    Parse a server endpoint string such as C{tcp:8080:interface=127.0.0.1}.

    @raise ConfigError: when the string is not a valid server endpoint.
    """
    if not isinstance(description, str) or not description:
        raise ConfigError(f"listen endpoint {description!r} must be a non-empty string")
    try:
        return serverFromString(reactor, description)
    except Exception as e:
        raise ConfigError(
            f"listen endpoint {description!r} is not valid: {_reason(e)}"
        ) from None


def _reason(exception):
    text = str(exception) or exception.__class__.__name__
    if isinstance(exception, KeyError):
        text = f"unknown endpoint type {text}"
    return text.rstrip(".")


def formatAddress(address):
    """
    Say an L{IAddress} the way a person writes it: C{127.0.0.1:8080},
    C{[::1]:8080} or a UNIX path.
    """
    host = getattr(address, "host", None)
    port = getattr(address, "port", None)
    if host is not None and port is not None:
        if ":" in host:
            return f"[{host}]:{port}"
        return f"{host}:{port}"
    name = getattr(address, "name", None)
    if name is not None:
        return name.decode("utf-8", "replace") if isinstance(name, bytes) else str(name)
    return str(address)
