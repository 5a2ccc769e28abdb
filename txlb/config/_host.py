"""
A host in a description.
"""

import attr

from txlb._tacboundary import valueObject
from txlb.errors import ConfigError
from txlb.config._checks import _name, _number
from txlb.config._tls import ClientTLS


@valueObject
@attr.s(frozen=True)
class Host:
    """
    A backend host.

    @ivar name: unique within its group.
    @ivar address: C{HOST:PORT}, C{[IPv6]:PORT} or a client endpoint string
        such as C{unix:/run/app.sock}.
    @ivar weight: its share of the work relative to the others (0 takes none).
    @ivar backup: serves only while no primary host is available.
    @ivar maxconn: the most connections it takes at once (None: no limit).
    @ivar tls: a L{ClientTLS}: txlb speaks TLS to this host.
    @ivar proxy: C{"v1"} or C{"v2"} to send a PROXY protocol header of
        that version first on each connection, telling the host the real
        client's address (None: send none).
    """

    name = attr.ib(validator=_name("host"))
    address = attr.ib()
    weight = attr.ib(default=1, validator=_number("a host's weight", integer=True))
    backup = attr.ib(default=False, converter=bool)
    maxconn = attr.ib(
        default=None,
        validator=_number("a host's maxconn", minimum=1, integer=True, optional=True),
    )
    tls = attr.ib(default=None)
    proxy = attr.ib(default=None)

    @proxy.validator
    def _checkProxy(self, attribute, value):
        if value not in (None, "v1", "v2"):
            raise ConfigError(f"host {self.name!r}: proxy must be 'v1', 'v2' or None, not {value!r}")

    @address.validator
    def _checkAddress(self, attribute, value):
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"host {self.name!r} needs an address such as 127.0.0.1:8080")

    @tls.validator
    def _checkTLS(self, attribute, value):
        if value is not None and not isinstance(value, ClientTLS):
            raise ConfigError(f"host {self.name!r}: tls must be a ClientTLS(...) or None, not {value!r}")
