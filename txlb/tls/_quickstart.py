"""
The quick start's TLS flags (C{--tls-cert}, C{--tls-key}, C{--tls-chain},
C{--tls-client-ca}) as a L{ServerTLS} for the service of the C{--listen}
endpoints. An C{ssl:} listener given with these flags is served by txlb's
own TLS (its C{privateKey}, C{certKey} and C{extraCertChain} are read
from the string) so that C{--tls-client-ca} applies to it.
"""

from twisted.internet.endpoints import quoteStringArgument

from txlb._twisted import parseEndpointString
from txlb.config import ServerTLS
from txlb.errors import ConfigError

_SSL = ("ssl:",)
_KEPT = ("interface", "backlog")


def _asTCP(description):
    try:
        args, kwargs = parseEndpointString(description)
    except Exception as e:
        raise ConfigError(f"listen endpoint {description!r} cannot be read: {e}") from None
    if len(args) < 2 or "port" in kwargs:
        port = kwargs.get("port")
    else:
        port = args[1]
    if port is None:
        raise ConfigError(f"listen endpoint {description!r} needs a port")
    tcp = f"tcp:{port}" + "".join(
        f":{name}={quoteStringArgument(kwargs[name])}" for name in _KEPT if name in kwargs
    )
    key = kwargs.get("privateKey")
    return tcp, kwargs.get("certKey") or key, key, kwargs.get("extraCertChain")


def quickStartTLS(listen, cert=None, key=None, chain=None, clientCA=None):
    """
    The C{--listen} endpoints and the L{ServerTLS} the TLS flags describe:
    C{(listen, None)} when no flag is given.

    @raise ConfigError: when no certificate is named, or listeners name
        different ones.
    """
    if cert is None and key is None and chain is None and clientCA is None:
        return list(listen), None
    endpoints = []
    for description in listen:
        if description.startswith(_SSL):
            description, sslCert, sslKey, sslChain = _asTCP(description)
            if cert is not None and sslCert is not None and (sslCert, sslKey) != (cert, key or cert):
                raise ConfigError(
                    "the ssl: listeners and --tls-cert name different certificates; give one of them"
                )
            cert, key, chain = cert or sslCert, key or sslKey, chain or sslChain
        endpoints.append(description)
    if cert is None:
        raise ConfigError(
            "--tls-key, --tls-chain and --tls-client-ca need a certificate: give --tls-cert FILE "
            "or listen on ssl:PORT:privateKey=KEY:certKey=CERT"
        )
    return endpoints, ServerTLS(cert=cert, key=key, chain=chain, clientCA=clientCA)
