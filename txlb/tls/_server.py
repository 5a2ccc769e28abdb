"""
TLS from clients to txlb (termination): the certificates of one service,
chosen by the name a client asks for (SNI), with client certificates
required when the service names authorities for them, re-read from disk
on demand (new handshakes get the new certificates; open connections keep
theirs), and each certificate's expiry.

It is a connection creator for Twisted's L{TLSMemoryBIOFactory}
(C{IOpenSSLServerConnectionCreator}): the pyOpenSSL contexts come from
Twisted's L{CertificateOptions}; the choice by name is pyOpenSSL's
C{set_tlsext_servername_callback}, which Twisted's options do not offer.
"""

from OpenSSL import SSL
from twisted.internet import ssl
from twisted.internet.interfaces import IOpenSSLServerConnectionCreator
from twisted.logger import Logger
from zope.interface import implementer

from txlb.clienthello import ClientHello
from txlb.errors import ConfigError
from txlb.interfaces import IServerCertificates
from txlb.tls._files import certificates, expiry, identity

def tlsHello(transport):
    """
    What a client's completed TLS handshake on C{transport} said in its
    ClientHello that routing reads: the server name it asked for (SNI),
    as a L{ClientHello} (its application protocols are not kept by
    OpenSSL once negotiated, so none are given).
    """
    connection = transport.getHandle()
    name = connection.get_servername() if connection is not None else None
    if not name:
        return ClientHello()
    return ClientHello(serverName=name.decode("ascii", "replace").lower().rstrip("."))


def _noProtocol(connection, offered):
    return SSL.NO_OVERLAPPING_PROTOCOLS


def refuseALPN(context):
    """
    Negotiate no application protocol (ALPN) on C{context}: txlb relays
    bytes and speaks none of them. (Twisted's own callback answers a client
    that offers protocols with an empty name, which pyOpenSSL turns into an
    "internal error" alert: curl and browsers could not connect.)
    """
    context.set_alpn_select_callback(_noProtocol)


#: The name of the certificate served when no SNI name matches.
DEFAULT = "default"


@implementer(IOpenSSLServerConnectionCreator, IServerCertificates)
class ServerContexts:
    """
    The TLS contexts of one service, built from a L{txlb.config.ServerTLS}.

    @ivar expiries: C{{name: seconds since the epoch}} of each certificate
        (the default one under L{DEFAULT}).
    @ivar problem: why the last reload kept the old certificates, or None.
    """

    log = Logger()

    def __init__(self, serviceName, spec):
        """
        @raise ConfigError: when a file is missing, unreadable, or a key does
            not match its certificate.
        """
        self.serviceName = serviceName
        self.spec = spec
        self.problem = None
        self._contexts, self.expiries = self._load()

    def _context(self, cert, key, chain, clientCA):
        private, extra = identity(cert, key, chain)
        options = {}
        if clientCA is not None:
            options = {
                "verify": True,
                "requireCertificate": True,
                "caCerts": [c.original for c in clientCA],
            }
        context = ssl.CertificateOptions(
            privateKey=private.privateKey.original,
            certificate=private.original,
            extraCertChain=[c.original for c in extra],
            **options,
        ).getContext()
        refuseALPN(context)
        return context, expiry(private)

    def _load(self):
        spec = self.spec
        clientCA = certificates(spec.clientCA, "clientCA file") if spec.clientCA else None
        contexts, expiries = {}, {}
        default, expiries[DEFAULT] = self._context(spec.cert, spec.key, spec.chain, clientCA)
        default.set_tlsext_servername_callback(self._pick)
        contexts[None] = default
        for name, (cert, key) in spec.sni:
            contexts[name.lower().encode("idna")], expiries[name] = self._context(
                cert, key, None, clientCA
            )
        return contexts, expiries

    def _pick(self, connection):
        name = connection.get_servername()
        if name:
            context = self._contexts.get(name.lower())
            if context is not None:
                connection.set_context(context)

    def serverConnectionForTLS(self, tlsProtocol):
        """
        A connection for a new client, with the default context until the
        client names another.
        """
        connection = SSL.Connection(self._contexts[None], None)
        # Twisted's callbacks on the context (ALPN) find the protocol here.
        connection.set_app_data(tlsProtocol)
        return connection

    def adopt(self, other):
        """
        Serve, from now on, the certificates another L{ServerContexts} of
        this service read (its description changed while running).
        """
        self.spec = other.spec
        self._contexts, self.expiries, self.problem = other._contexts, other.expiries, other.problem

    def reload(self):
        """
        Read the certificates again; new handshakes use them, open
        connections keep theirs. When a file is broken, keep the old ones.

        @return: None, or the sentence saying why the old ones were kept.
        """
        try:
            self._contexts, self.expiries = self._load()
        except ConfigError as e:
            self.problem = f"service {self.serviceName}: certificates not reloaded, the old ones stay: {e}"
            self.log.error("{problem}", problem=self.problem)
            return self.problem
        self.problem = None
        self.log.info(
            "service {service}: certificates reloaded ({names})",
            service=self.serviceName,
            names=", ".join(sorted(self.expiries)),
        )
        return None
