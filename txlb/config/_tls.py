"""
TLS in a description: to a host (L{ClientTLS}) and from clients (L{ServerTLS}).
"""

import attr

from txlb._tacboundary import valueObject
from txlb.errors import ConfigError
from txlb.config._checks import _file, _number


@valueObject
@attr.s(frozen=True)
class ClientTLS:
    """
    TLS from txlb to a host (see doc/tls.rst): the certificate the host
    serves is verified unless C{verify} is False.

    @ivar servername: the name sent (SNI) and checked in the host's
        certificate; None: the host part of the host's address.
    @ivar ca: a PEM file of the authorities trusted for the host; None: the
        system's trust roots.
    @ivar cert: a PEM file with a client certificate to show (it may hold
        the key too), or None.
    @ivar key: the PEM file of C{cert}'s key when not in C{cert}.
    @ivar verify: False accepts any certificate (logged once at start).
    """

    servername = attr.ib(default=None, validator=_file("a ClientTLS servername"))
    ca = attr.ib(default=None, validator=_file("a ClientTLS ca"))
    cert = attr.ib(default=None, validator=_file("a ClientTLS cert"))
    key = attr.ib(default=None, validator=_file("a ClientTLS key"))
    verify = attr.ib(default=True, converter=bool)

    @key.validator
    def _checkKey(self, attribute, value):
        if value is not None and self.cert is None:
            raise ConfigError("a ClientTLS key needs its cert")


def _sni(value):
    if value is None:
        return ()
    items = value.items() if isinstance(value, dict) else value
    return tuple((name, tuple(pair) if not isinstance(pair, str) else (pair, None)) for name, pair in items)


@valueObject
@attr.s(frozen=True)
class ServerTLS:
    """
    TLS from clients to txlb on a service's listeners (see doc/tls.rst).

    @ivar cert: the PEM file of the default certificate (it may hold the
        key and the chain too).
    @ivar key: the PEM file of its key when not in C{cert}.
    @ivar chain: a PEM file of intermediate certificates sent after it.
    @ivar clientCA: a PEM file of authorities: when given, clients must show
        a certificate one of them signed.
    @ivar sni: C{{name: (cert, key)}}: the certificate served to clients
        asking for C{name} (SNI); others get the default one.
    @ivar handshakeTimeout: seconds a client has to finish its handshake.
    """

    cert = attr.ib(validator=_file("a ServerTLS cert"))
    key = attr.ib(default=None, validator=_file("a ServerTLS key"))
    chain = attr.ib(default=None, validator=_file("a ServerTLS chain"))
    clientCA = attr.ib(default=None, validator=_file("a ServerTLS clientCA"))
    sni = attr.ib(default=(), converter=_sni)
    handshakeTimeout = attr.ib(default=10.0, validator=_number("a ServerTLS handshakeTimeout", above=True))

    @sni.validator
    def _checkSNI(self, attribute, value):
        for name, (cert, key) in value:
            if not isinstance(name, str) or not name.strip() or name == "default":
                raise ConfigError(f"a ServerTLS sni name must be a host name, not {name!r}")
            _file(f"the ServerTLS sni cert of {name!r}")(self, attribute, cert)
            _file(f"the ServerTLS sni key of {name!r}")(self, attribute, key)
