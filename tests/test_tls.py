"""
TLS pieces without processes: the configuration values and flags, the
certificates of a service (SNI, reload, expiry), the reasons given for a
failed handshake, and the TLS connector's promise that a protocol is
built only once the handshake completed, over in-memory transports.
"""

from OpenSSL import SSL
from service_identity import VerificationError
from twisted.internet.address import IPv4Address
from twisted.internet.error import ConnectionDone
from twisted.internet.interfaces import ISSLTransport
from twisted.internet.protocol import ClientFactory, Factory, Protocol
from twisted.internet.testing import MemoryReactorClock
from twisted.protocols.tls import TLSMemoryBIOFactory
from twisted.python.failure import Failure
from twisted.test import iosim
from twisted.trial.unittest import SynchronousTestCase
from zope.interface import directlyProvides
from zope.interface.verify import verifyObject

from tests import certs
from tests.test_relay import HalfCloseTransport, makeService
from txlb import _splice
from txlb.address import backendConnector
from txlb.clienthello import ClientHello
from txlb.config import ClientTLS, Host, ServerTLS, parseBackend
from txlb.errors import ConfigError
from txlb.interfaces import IConnector, IServerCertificates
from txlb.relaysettings import DEFAULT_HANDSHAKE_TIMEOUT
from txlb.tls import HandshakeFailed, ServerContexts, TLSConnector, handshakeReason
from txlb.tls._quickstart import quickStartTLS
from txlb.tls._server import tlsHello


class ConfigTests(SynchronousTestCase):
    """
    ClientTLS, ServerTLS and the tls options of --backend.
    """

    def test_backendFlags(self):
        """
        --backend ADDR,tls,... makes a Host with the ClientTLS the options say.
        """
        host = parseBackend("app=10.0.0.1:443,tls,servername=app.internal,ca=ca.pem,cert=c.pem,key=k.pem")
        self.assertEqual(host, Host("app", "10.0.0.1:443", tls=ClientTLS("app.internal", "ca.pem", "c.pem", "k.pem")))
        self.assertFalse(parseBackend("10.0.0.1:443,tls,verify=no").tls.verify)
        self.assertIsNone(parseBackend("10.0.0.1:443").tls)

    def test_backendFlagMistakes(self):
        """
        TLS options without tls, and a verify that is neither yes nor no, are
        one sentence each.
        """
        e = self.assertRaises(ConfigError, parseBackend, "10.0.0.1:443,ca=ca.pem")
        self.assertEqual(
            str(e), "--backend '10.0.0.1:443,ca=ca.pem': servername, ca, cert, key and verify need the tls flag"
        )
        e = self.assertRaises(ConfigError, parseBackend, "10.0.0.1:443,tls,verify=maybe")
        self.assertEqual(str(e), "--backend '10.0.0.1:443,tls,verify=maybe': verify must be yes or no, not 'maybe'")

    def test_values(self):
        """
        A ClientTLS key needs its cert; a ServerTLS sni name must be a name;
        tls must be the right kind of object.
        """
        self.assertRaises(ConfigError, ClientTLS, key="k.pem")
        self.assertRaises(ConfigError, ServerTLS, "c.pem", sni={"": ("c", "k")})
        self.assertEqual(ServerTLS("c.pem", sni={"a": ("c", "k")}).sni, (("a", ("c", "k")),))
        self.assertRaises(ConfigError, Host, "a", "10.0.0.1:443", tls="yes")

    def test_connector(self):
        """
        A host with tls gets a TLS connector; its address must be HOST:PORT.
        """
        ca = certs.authority(self)
        connector = backendConnector("127.0.0.1:443", MemoryReactorClock(), ClientTLS(ca=ca.caPath))
        self.assertIsInstance(connector, TLSConnector)
        verifyObject(IConnector, connector)
        e = self.assertRaises(
            ConfigError, backendConnector, "unix:/run/app.sock", MemoryReactorClock(), ClientTLS()
        )
        self.assertEqual(str(e), "backend address 'unix:/run/app.sock': tls needs the HOST:PORT form")
        e = self.assertRaises(
            ConfigError, backendConnector, "127.0.0.1:443", MemoryReactorClock(), ClientTLS(ca="/nonexistent.pem")
        )
        self.assertEqual(str(e), "cannot read the ca file /nonexistent.pem: No such file or directory")

    def test_quickStart(self):
        """
        The --tls-* flags make a ServerTLS; an ssl: listener with them is
        served by txlb's TLS from its own key and certificate.
        """
        self.assertEqual(quickStartTLS(["tcp:8443"]), (["tcp:8443"], None))
        listen, tls = quickStartTLS(
            ["ssl:8443:interface=127.0.0.1:privateKey=k.pem:certKey=c.pem"], clientCA="ca.pem"
        )
        self.assertEqual(listen, ["tcp:8443:interface=127.0.0.1"])
        self.assertEqual(tls, ServerTLS(cert="c.pem", key="k.pem", clientCA="ca.pem"))
        e = self.assertRaises(ConfigError, quickStartTLS, ["tcp:8443"], clientCA="ca.pem")
        self.assertIn("give --tls-cert FILE", str(e))


class ServerContextsTests(SynchronousTestCase):
    """
    A service's certificates: errors as sentences, expiry, reload.
    """

    def setUp(self):
        self.ca = certs.authority(self)

    def test_expiries(self):
        """
        ServerContexts provides IServerCertificates; the default certificate
        and each SNI certificate have an expiry.
        """
        cert, key = self.ca.leaf("a.example")
        bCert, bKey = self.ca.leaf("b.example", days=3)
        contexts = ServerContexts("web", ServerTLS(cert, key, sni={"b.example": (bCert, bKey)}))
        verifyObject(IServerCertificates, contexts)
        self.assertEqual(
            contexts.expiries, {"default": certs.notAfter(cert), "b.example": certs.notAfter(bCert)}
        )

    def test_combinedFile(self):
        """
        A file holding the certificate and its key is enough.
        """
        cert, _ = self.ca.leaf("a.example", combined=True)
        self.assertEqual(list(ServerContexts("web", ServerTLS(cert)).expiries), ["default"])

    def test_mistakes(self):
        """
        A missing file and a key of another certificate are one sentence.
        """
        cert, key = self.ca.leaf("a.example")
        _, otherKey = self.ca.leaf("b.example")
        e = self.assertRaises(ConfigError, ServerContexts, "web", ServerTLS("/nonexistent.crt", key))
        self.assertEqual(str(e), "cannot read the certificate file /nonexistent.crt: No such file or directory")
        e = self.assertRaises(ConfigError, ServerContexts, "web", ServerTLS(cert, otherKey))
        self.assertEqual(str(e), f"the key in {otherKey} does not match the certificate in {cert}")

    def test_reload(self):
        """
        reload reads changed files; a broken one keeps the old certificates
        and returns why.
        """
        cert, key = self.ca.leaf("a.example", days=5, file="served")
        contexts = ServerContexts("web", ServerTLS(cert, key))
        self.ca.leaf("a.example", days=9, file="served")
        self.assertIsNone(contexts.reload())
        self.assertEqual(contexts.expiries["default"], certs.notAfter(cert))
        with open(cert, "w") as f:
            f.write("garbage\n")
        problem = contexts.reload()
        self.assertEqual(
            problem,
            f"service web: certificates not reloaded, the old ones stay: the certificate file {cert} "
            "holds no PEM certificate or key",
        )
        self.assertEqual(contexts.problem, problem)
        self.assertEqual(len(contexts.expiries), 1)


class ReasonTests(SynchronousTestCase):
    """
    The few words a failed handshake is reported with.
    """

    def test_reasons(self):
        """
        A name mismatch, an OpenSSL error and a lost connection each get a
        short phrase.
        """
        self.assertEqual(
            handshakeReason(Failure(VerificationError(errors=[]))),
            "certificate verify failed: hostname mismatch",
        )
        self.assertEqual(
            handshakeReason(Failure(SSL.Error([("SSL routines", "", "wrong version number")]))),
            "wrong version number",
        )
        self.assertEqual(
            handshakeReason(Failure(ConnectionDone("closed"))),
            "connection closed during the TLS handshake",
        )


class _Recorder(ClientFactory):
    def __init__(self):
        self.built = []
        self.failures = []

    def buildProtocol(self, addr):
        protocol = Protocol()
        self.built.append(protocol)
        return protocol

    def clientConnectionFailed(self, connector, reason):
        self.failures.append(reason)


class ConnectorTests(SynchronousTestCase):
    """
    The TLS connector over in-memory transports: the caller's protocol is
    built once the handshake completed, and a failed handshake is a failed
    connect.
    """

    def setUp(self):
        self.ca = certs.authority(self)

    def handshake(self, served, spec):
        reactor = MemoryReactorClock()
        connector = backendConnector("127.0.0.1:443", reactor, spec)
        recorder = _Recorder()
        connector.connect(reactor, recorder)
        tcp = reactor.tcpClients[0][2]
        serverFactory = TLSMemoryBIOFactory(
            ServerContexts("app", ServerTLS(*served)), False, Factory.forProtocol(Protocol)
        )
        client = tcp.buildProtocol(None)
        server = serverFactory.buildProtocol(None)
        self.assertEqual(recorder.built, [])
        pump = iosim.connect(
            server, iosim.FakeTransport(server, True), client, iosim.FakeTransport(client, False), greet=False
        )
        pump.flush()
        return recorder, client

    def test_built(self):
        """
        A verified handshake builds the caller's protocol, on the TLS
        transport.
        """
        recorder, client = self.handshake(self.ca.leaf("app.internal"), ClientTLS("app.internal", self.ca.caPath))
        self.assertEqual(len(recorder.built), 1)
        self.assertIs(recorder.built[0].transport, client)
        self.assertEqual(recorder.failures, [])

    def test_wrongName(self):
        """
        A certificate for another name fails the connect, saying so; nothing
        is built.
        """
        recorder, _ = self.handshake(self.ca.leaf("other.internal"), ClientTLS("app.internal", self.ca.caPath))
        self.assertEqual(recorder.built, [])
        [failure] = recorder.failures
        self.assertTrue(failure.check(HandshakeFailed))
        self.assertEqual(failure.getErrorMessage(), "certificate verify failed: hostname mismatch")

    def test_unknownAuthority(self):
        """
        A certificate another authority signed fails the connect.
        """
        other = certs.authority(self, "other CA")
        recorder, _ = self.handshake(other.leaf("app.internal"), ClientTLS("app.internal", self.ca.caPath))
        [failure] = recorder.failures
        self.assertEqual(failure.getErrorMessage(), "certificate verify failed: unknown certificate authority")

    def test_expired(self):
        """
        An expired certificate fails the connect, saying so.
        """
        recorder, _ = self.handshake(self.ca.leaf("app.internal", days=-1), ClientTLS("app.internal", self.ca.caPath))
        [failure] = recorder.failures
        self.assertEqual(failure.getErrorMessage(), "certificate verify failed: certificate has expired")


class SpliceTests(SynchronousTestCase):
    """
    TLS connections stay on Twisted's path.
    """

    def test_notSpliceable(self):
        """
        A TLS transport is never handed to splice(2).
        """
        ca = certs.authority(self)
        factory = TLSMemoryBIOFactory(
            ServerContexts("web", ServerTLS(*ca.leaf("a.example"))), False, Factory.forProtocol(Protocol)
        )
        protocol = factory.buildProtocol(None)
        protocol.makeConnection(iosim.FakeTransport(protocol, True))
        self.assertFalse(_splice.spliceable(protocol))


class ClientHandshakeTests(SynchronousTestCase):
    """
    A TLS client is given a host only once its handshake completed; one
    whose handshake fails ends as tls-failed, counted by its service.
    """

    def accept(self, **options):
        self.reactor = MemoryReactorClock()
        service = makeService(("a",), self.reactor, **options)
        client = service.factory.buildProtocol(IPv4Address("TCP", "10.0.0.1", 5000))
        transport = HalfCloseTransport(peerAddress=IPv4Address("TCP", "10.0.0.1", 5000))
        directlyProvides(transport, ISSLTransport)
        transport.getHandle = lambda: None
        client.makeConnection(transport)
        return service, client, transport

    def test_waitsForHandshake(self):
        """
        No host is tried before handshakeCompleted; then one is.
        """
        service, client, _ = self.accept()
        self.assertEqual(self.reactor.tcpClients, [])
        client.handshakeCompleted()
        self.assertEqual(len(self.reactor.tcpClients), 1)

    def test_failedHandshake(self):
        """
        A connection lost before its handshake completed ends as
        tls-failed and is counted; no host was tried.
        """
        service, client, _ = self.accept()
        client.connectionLost(Failure(SSL.Error([("SSL routines", "", "peer did not return a certificate")])))
        self.assertEqual(client.termination, "tls-failed")
        self.assertEqual(service.tlsFailed, 1)
        self.assertEqual(self.reactor.tcpClients, [])

    def test_handshakeTimeout(self):
        """
        A client that does not complete its handshake in time is aborted,
        as tls-failed.
        """
        service, client, transport = self.accept()
        self.reactor.advance(DEFAULT_HANDSHAKE_TIMEOUT)
        self.assertTrue(transport.aborted)
        client.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(client.termination, "tls-failed")
        self.assertEqual(service.tlsFailed, 1)


class _Handle:
    def __init__(self, name):
        self.name = name

    def get_servername(self):
        return self.name


class _Transport:
    def __init__(self, handle):
        self.handle = handle

    def getHandle(self):
        return self.handle


class HelloTests(SynchronousTestCase):
    """
    What routing sees of a client whose TLS txlb terminated.
    """

    def test_serverName(self):
        """
        The name the client asked for (SNI), lower case without a final dot;
        none when it asked for none.
        """
        self.assertEqual(tlsHello(_Transport(_Handle(b"Shop.Example.COM."))), ClientHello("shop.example.com"))
        self.assertEqual(tlsHello(_Transport(_Handle(None))), ClientHello())
        self.assertEqual(tlsHello(_Transport(None)), ClientHello())
