"""
TLS from txlb to a host (origination): a connector that connects over
TCP, does the handshake, and only then builds the caller's protocol, so
that for the failover and the health checks a failed handshake (a wrong
name, an unknown authority, an expired certificate, a host that speaks
plain TCP) is a failed connect, with a short reason, like a refusal.

Twisted's L{TLSMemoryBIOFactory} does the TLS; its protocol tells the
wrapped protocol providing L{IHandshakeListener} when the handshake is
done. L{_Handshake} is that wrapped protocol until then: it builds the
caller's protocol and puts it in its place (C{wrappedProtocol}, a public
attribute of Twisted's L{ProtocolWrapper}), so after the handshake every
byte goes straight to the caller's protocol with nothing in between.
"""

import datetime

from OpenSSL import SSL
from service_identity import VerificationError
from twisted.internet import ssl
from twisted.internet.error import ConnectionDone, ConnectionLost
from twisted.internet.abstract import isIPAddress, isIPv6Address
from twisted.internet.interfaces import IHandshakeListener, IOpenSSLClientConnectionCreator
from twisted.internet.protocol import Factory, Protocol
from twisted.logger import Logger
from twisted.protocols.tls import TLSMemoryBIOFactory
from twisted.python.failure import Failure
from zope.interface import implementer

from txlb._ratelimit import RateLimiter, sinceLast
from txlb.interfaces import IConnector
from txlb.tls._files import certificates, identity


class HandshakeFailed(Exception):
    """
    A TLS handshake with a host failed; the message says why, in a few words.
    """


def _diagnose(connection):
    """
    Why OpenSSL refused the certificate chain a host showed, read from the
    chain itself (pyOpenSSL does not give OpenSSL's verify result).
    """
    try:
        chain = connection.get_peer_cert_chain(as_cryptography=True) or []
    except Exception:
        chain = []
    if not chain:
        return "no certificate"
    now = datetime.datetime.now(datetime.timezone.utc)
    for cert in chain:
        if cert.not_valid_after_utc < now:
            return "certificate has expired"
        if cert.not_valid_before_utc > now:
            return "certificate is not yet valid"
    if len(chain) == 1 and chain[0].issuer == chain[0].subject:
        return "self-signed certificate"
    return "unknown certificate authority"


def handshakeReason(reason, connection=None):
    """
    A short phrase for why a handshake failed, such as C{certificate verify
    failed: hostname mismatch}.

    @param reason: the L{Failure} the TLS connection was lost with.
    @param connection: the pyOpenSSL C{Connection}, for its verify result.
    """
    if reason.check(VerificationError):
        return "certificate verify failed: hostname mismatch"
    if reason.check(SSL.Error):
        parts = []
        for entry in reason.value.args[0] if reason.value.args else ():
            if isinstance(entry, tuple) and entry and entry[-1] and entry[-1] not in parts:
                parts.append(entry[-1])
        text = "; ".join(parts) or "TLS error"
        if "certificate verify failed" in text and connection is not None:
            text = f"certificate verify failed: {_diagnose(connection)}"
        return text
    if reason.check(ConnectionDone):
        return "connection closed during the TLS handshake"
    if reason.check(ConnectionLost):
        return "connection lost during the TLS handshake"
    message = reason.getErrorMessage().strip().rstrip(".")
    return f"TLS handshake failed ({message or reason.type.__name__})"


@implementer(IHandshakeListener)
class _Handshake(Protocol):
    """
    The TLS connection's protocol until the handshake completes.
    """

    def __init__(self, attempt):
        self.attempt = attempt

    def handshakeCompleted(self):
        attempt = self.attempt
        tls = self.transport
        protocol = attempt.factory.buildProtocol(tls.getPeer())
        attempt.handedOver = True
        if protocol is None:
            tls.abortConnection()
            return
        tls.wrappedProtocol = protocol
        protocol.makeConnection(tls)

    def connectionLost(self, reason):
        attempt = self.attempt
        if attempt.handedOver or attempt.stopped:
            return
        attempt.handedOver = True
        why = handshakeReason(reason, self.transport.getHandle() if self.transport else None)
        attempt.connector.handshakeFailed(why)
        attempt.factory.clientConnectionFailed(attempt, Failure(HandshakeFailed(why)))


class _AttemptFactory(Factory):
    noisy = False

    def __init__(self, attempt):
        self.attempt = attempt

    def buildProtocol(self, addr):
        return _Handshake(self.attempt)


class _TLSAttempt:
    """
    One connection attempt: TCP, then the handshake; shaped like a
    connector (C{stopConnecting}).
    """

    def __init__(self, connector, reactor, factory):
        self.connector = connector
        self.factory = factory
        self.handedOver = False
        self.stopped = False
        self.tls = TLSMemoryBIOFactory(connector.creator, True, _AttemptFactory(self))
        self.tcp = reactor.connectTCP(connector.host, connector.port, self, timeout=None)

    # The reactor's connector reports to this object as a ClientFactory.

    def startedConnecting(self, connector):
        pass

    def buildProtocol(self, addr):
        protocol = self.tls.buildProtocol(addr)
        self.protocol = protocol
        return protocol

    def clientConnectionFailed(self, connector, reason):
        if not self.stopped:
            self.handedOver = True
            self.factory.clientConnectionFailed(self, reason)

    def clientConnectionLost(self, connector, reason):
        pass

    def doStart(self):
        pass

    def doStop(self):
        pass

    def stopConnecting(self):
        """
        Give up: before the TCP connect, stop connecting; during the
        handshake, abort the connection. Nothing is reported afterwards.
        """
        if self.handedOver or self.stopped:
            return
        self.stopped = True
        if self.tcp.state == "connecting":
            self.tcp.stopConnecting()
        elif getattr(self, "protocol", None) is not None:
            self.protocol.abortConnection()


@implementer(IConnector)
class TLSConnector:
    """
    Connects to a host and port with TLS; the caller's factory hears of the
    connection only once the handshake completed, and of a failed handshake
    as a failed connect (L{HandshakeFailed}).

    @ivar creator: the client connection creator (Twisted's
        C{optionsForClientTLS}, or C{CertificateOptions(verify=False)}).
    """

    log = Logger()

    def __init__(self, description, host, port, creator, clock):
        self.description = description
        self.host = host
        self.port = port
        self.creator = creator
        self._limiter = RateLimiter(clock)

    def handshakeFailed(self, why):
        """
        Log a failed handshake, one line per second at most.
        """
        suppressed = self._limiter.allow()
        if suppressed is not None:
            self.log.warn(
                "backend {backend}: TLS handshake failed: {why}{more}",
                backend=self.description,
                why=why,
                more=sinceLast(suppressed),
            )

    def connect(self, reactor, factory):
        return _TLSAttempt(self, reactor, factory)


@implementer(IOpenSSLClientConnectionCreator)
class _Unverified:
    """
    Client connections that check no certificate (C{verify=no}) but still
    send the server name (SNI), which Twisted's unverified options do not.
    """

    def __init__(self, options, servername):
        self.context = options.getContext()
        self.servername = None if isIPAddress(servername) or isIPv6Address(servername) else servername

    def clientConnectionForTLS(self, tlsProtocol):
        connection = SSL.Connection(self.context, None)
        connection.set_app_data(tlsProtocol)
        if self.servername:
            connection.set_tlsext_host_name(self.servername.encode("idna"))
        return connection


def clientCreator(spec, host):
    """
    The connection creator a L{txlb.config.ClientTLS} describes, for a host
    whose address has the host part C{host}.

    @raise txlb.errors.ConfigError: for an unreadable file.
    """
    client = None
    if spec.cert is not None:
        client, _ = identity(spec.cert, spec.key)
    if not spec.verify:
        options = {}
        if client is not None:
            options = {"privateKey": client.privateKey.original, "certificate": client.original}
        return _Unverified(ssl.CertificateOptions(verify=False, **options), spec.servername or host)
    trust = None
    if spec.ca is not None:
        trust = ssl.trustRootFromCertificates(certificates(spec.ca, "ca file"))
    return ssl.optionsForClientTLS(spec.servername or host, trustRoot=trust, clientCertificate=client)


def tlsConnector(description, host, port, spec, reactor):
    """
    A L{TLSConnector} to C{host}:C{port} as the L{txlb.config.ClientTLS}
    C{spec} says; C{verify=False} is logged here, once.

    @raise txlb.errors.ConfigError: for an unreadable file.
    """
    if not spec.verify:
        TLSConnector.log.warn(
            "backend {backend}: TLS certificate verification is off (verify=no)",
            backend=description,
        )
    return TLSConnector(description, host, port, clientCreator(spec, host), reactor)
