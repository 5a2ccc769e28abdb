"""
TLS on both sides against real processes: a real twistd, real TLS
backends and clients on 127.0.0.1, certificates made at test time by
L{tests.certs}.
"""

import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import xmlrpc.client

from twisted.trial.unittest import SynchronousTestCase

from tests import certs
from tests.support import ROOT, TXLB, Process, startBackend, startTwistd, temporaryFile
from tests.test_integration_admin import ADMIN, LISTEN, adminURL, fetch
from tests.test_integration_workers import serving

ROUNDS = 6


def clientContext(caPath, cert=None, key=None):
    """
    A client context trusting C{caPath}, showing C{cert}/C{key} if given,
    and offering application protocols (ALPN) as browsers and curl do.
    """
    context = ssl.create_default_context(cafile=caPath)
    context.check_hostname = False
    context.set_alpn_protocols(["h2", "http/1.1"])
    if cert is not None:
        context.load_cert_chain(cert, key)
    return context


def tlsRequest(address, context, servername="localhost", payload=b"", timeout=10.0):
    """
    Connect with TLS, send C{payload} and read as many bytes back (an echo
    backend sends them); return C{(bytes read, the server certificate's
    DER)}.
    """
    with socket.create_connection(address, timeout=timeout) as raw:
        with context.wrap_socket(raw, server_hostname=servername) as tls:
            der = tls.getpeercert(binary_form=True)
            tls.sendall(payload)
            chunks, size = [], 0
            while size < len(payload):
                data = tls.recv(65536)
                if not data:
                    break
                chunks.append(data)
                size += len(data)
            return b"".join(chunks), der


def derOf(path):
    """
    The DER form of the first certificate in C{path}.
    """
    with open(path) as f:
        return ssl.PEM_cert_to_DER_cert(f.read())


def hostStatus(process, name):
    """
    The status of host C{name} of service and group C{default}.
    """
    rpc = xmlrpc.client.ServerProxy(adminURL(process))
    return rpc.getStatus()["default"]["groups"]["default"]["hosts"][name]


class OriginationTests(SynchronousTestCase):
    """
    TLS from txlb to hosts: only a completed, verified handshake is a
    connect.
    """

    def setUp(self):
        self.ca = certs.authority(self)

    def balance(self, *backends):
        process, address = startTwistd(
            self, ["txlb", *LISTEN, *ADMIN, *sum((["--backend", b] for b in backends), [])]
        )
        return process, address

    def assertAllReach(self, address, name):
        from tests.support import request

        for _ in range(ROUNDS):
            self.assertEqual(request(address, b""), name.encode() + b"\n")

    def test_wrongNameFailsOver(self):
        """
        Two TLS hosts behind one group, one serving a certificate for another
        name: every client reaches the right one; the wrong one's failed
        count grows, its reason is a hostname mismatch, and nothing logs a
        traceback.
        """
        right = certs.startTLSBackend(self, *self.ca.leaf("right.example"), name="right")
        wrong = certs.startTLSBackend(self, *self.ca.leaf("wrong.example"), name="wrong")
        process, address = self.balance(
            f"wrong={wrong.address},tls,servername=right.example,ca={self.ca.caPath}",
            f"right={right.address},tls,servername=right.example,ca={self.ca.caPath}",
        )
        self.assertAllReach(address, "right")
        status = hostStatus(process, "wrong")
        self.assertGreaterEqual(status["failed"], 1)
        self.assertEqual(status["lastFailure"]["reason"], "certificate verify failed: hostname mismatch")
        self.assertEqual(hostStatus(process, "right")["failed"], 0)
        process.waitFor(r"backend 127\.0\.0\.1:\d+: TLS handshake failed: certificate verify failed: hostname mismatch")
        self.assertNotIn("Traceback", process.output)

    def test_plainAndUnknownAuthorityFailOver(self):
        """
        A host that speaks plain TCP and one whose certificate an unknown
        authority signed, both given as tls, fail their handshake and are
        failed over; the reasons say so, and passive ejection hears of the
        failures.
        """
        from tests.support import name

        other = certs.authority(self, "another CA")
        right = certs.startTLSBackend(self, *self.ca.leaf("127.0.0.1"), name="right")
        stranger = certs.startTLSBackend(self, *other.leaf("127.0.0.1"), name="stranger")
        plain = startBackend(self, name, name="plain")
        process, address = self.balance(
            f"plain={plain.address},tls,ca={self.ca.caPath}",
            f"stranger={stranger.address},tls,ca={self.ca.caPath}",
            f"right={right.address},tls,ca={self.ca.caPath}",
        )
        self.assertAllReach(address, "right")
        self.assertEqual(
            hostStatus(process, "stranger")["lastFailure"]["reason"],
            "certificate verify failed: unknown certificate authority",
        )
        plainFailure = hostStatus(process, "plain")
        self.assertGreaterEqual(plainFailure["failed"], 1)
        self.assertTrue(plainFailure["lastFailure"]["reason"])
        process.waitFor(r"host (plain|stranger) \(127\.0\.0\.1:\d+\) up -> down: ejected for 30 s after 3 connect failures")
        self.assertNotIn("Traceback", process.output)

    def test_healthCheckDoesTheHandshake(self):
        """
        A tcp health check of a TLS host does the handshake: the host whose
        certificate names another host goes down, the right one stays up.
        """
        right = certs.startTLSBackend(self, *self.ca.leaf("127.0.0.1"), name="right")
        wrong = certs.startTLSBackend(self, *self.ca.leaf("wrong.example"), name="wrong")
        process, _ = startTwistd(
            self,
            ["txlb", *LISTEN, *ADMIN, "--check", "tcp", "--check-interval", "0.2", "--fall", "1",
             "--backend", f"wrong={wrong.address},tls,ca={self.ca.caPath}",
             "--backend", f"right={right.address},tls,ca={self.ca.caPath}"],
        )
        process.waitFor(r"wrong.*down")
        self.assertEqual(hostStatus(process, "right")["state"], "up")
        self.assertNotIn("Traceback", process.output)

    def test_verifyNo(self):
        """
        verify=no accepts any certificate, says so in the log, and still
        sends the server name.
        """
        other = certs.authority(self, "another CA")
        backend = certs.startTLSBackend(self, *other.leaf("wrong.example"), name="any")
        process, address = self.balance(f"{backend.address},tls,verify=no,servername=app.example")
        self.assertAllReach(address, "any")
        self.assertEqual(set(backend.servernames), {"app.example"})
        self.assertIn("TLS certificate verification is off (verify=no)", process.output)


class TerminationTests(SynchronousTestCase):
    """
    TLS from clients to txlb: client certificates, SNI, reloading, workers.
    """

    def setUp(self):
        self.ca = certs.authority(self)
        self.backend = startBackend(self)

    def test_clientCertificates(self):
        """
        With --tls-client-ca, a client showing a certificate the authority
        signed is relayed; one without is refused at the handshake, counted
        and logged, and its connection never reaches a backend.
        """
        cert, key = self.ca.leaf("127.0.0.1")
        clientCert, clientKey = self.ca.leaf("client.example", client=True)
        process, address = startTwistd(
            self,
            ["txlb", *LISTEN, *ADMIN, "--tls-cert", cert, "--tls-key", key,
             "--tls-client-ca", self.ca.caPath, "--backend", self.backend.address],
        )
        reply, _ = tlsRequest(address, clientContext(self.ca.caPath, clientCert, clientKey), payload=b"hello")
        self.assertEqual(reply, b"hello")
        before = self.backend.connections
        with self.assertRaises((ssl.SSLError, ConnectionResetError, BrokenPipeError)):
            reply, _ = tlsRequest(address, clientContext(self.ca.caPath), payload=b"hello")
            # TLS 1.3: the server's refusal arrives after the client's handshake.
            if not reply:
                raise ConnectionResetError("closed")
        process.waitFor(r"TLS handshake with client 127\.0\.0\.1:\d+ failed")
        rpc = xmlrpc.client.ServerProxy(adminURL(process))
        self.assertEqual(rpc.getStatus()["default"]["tls"]["handshakeFailures"], 1)
        self.assertEqual(self.backend.connections, before)
        self.assertNotIn("Traceback", process.output)

    def tac(self, cert, key, sni=None, workers=False):
        return temporaryFile(
            self,
            "from txlb.config import Admin, Balancer, Group, Host, Service, ServerTLS\n"
            "from txlb.tac import application\n"
            "application = application(Balancer(\n"
            "    services=[Service('default', listen=['tcp:0:interface=127.0.0.1'],\n"
            f"        tls=ServerTLS(cert={cert!r}, key={key!r}, sni={sni!r}),\n"
            f"        groups=[Group('default', hosts=[Host('echo', {self.backend.address!r})])])],\n"
            "    admin=Admin('tcp:0:interface=127.0.0.1')))\n",
        )

    def test_sni(self):
        """
        ServerTLS(sni=...) serves the certificate of the name a client asks
        for, and the default one for any other name; the expiry of each is
        in /metrics and on the status page.
        """
        cert, key = self.ca.leaf("default.example")
        bCert, bKey = self.ca.leaf("b.example")
        process, address = startTwistd(
            self, ["txlb", "--config", self.tac(cert, key, {"b.example": (bCert, bKey)})]
        )
        context = clientContext(self.ca.caPath)
        _, der = tlsRequest(address, context, "b.example", payload=b"")
        self.assertEqual(der, derOf(bCert))
        _, der = tlsRequest(address, context, "other.example", payload=b"")
        self.assertEqual(der, derOf(cert))
        _, text = fetch(adminURL(process, "/metrics"))
        found = re.search(
            r'^txlb_tls_certificate_expiry_timestamp_seconds\{name="b.example",service="default"\} (\S+)$',
            text,
            re.M,
        )
        self.assertIsNotNone(found, text)
        self.assertEqual(float(found.group(1)), certs.notAfter(bCert))
        _, page = fetch(adminURL(process, "/"))
        self.assertIn("certificate b.example expires", page)
        self.assertIn("certificate default expires", page)

    def test_reload(self):
        """
        reloadCertificates (and SIGHUP) serve a changed certificate to new
        clients while an open connection keeps relaying; a broken file
        keeps the old certificate and the call says why.
        """
        cert, key = self.ca.leaf("127.0.0.1", file="served")
        process, address = startTwistd(self, ["txlb", "--config", self.tac(cert, key)])
        first = derOf(cert)
        context = clientContext(self.ca.caPath)
        raw = socket.create_connection(address, timeout=10)
        self.addCleanup(raw.close)
        kept = context.wrap_socket(raw, server_hostname="localhost")
        self.assertEqual(kept.getpeercert(binary_form=True), first)
        kept.sendall(b"one")
        self.assertEqual(kept.recv(10), b"one")

        self.ca.leaf("127.0.0.1", file="served")
        second = derOf(cert)
        self.assertNotEqual(first, second)
        rpc = xmlrpc.client.ServerProxy(adminURL(process))
        self.assertTrue(rpc.reloadCertificates())
        self.assertEqual(tlsRequest(address, context, payload=b"")[1], second)
        kept.sendall(b"two")
        self.assertEqual(kept.recv(10), b"two")

        with open(cert, "w") as f:
            f.write("not a certificate\n")
        with self.assertRaises(xmlrpc.client.Fault) as caught:
            rpc.reloadCertificates()
        self.assertIn("certificates not reloaded, the old ones stay", caught.exception.faultString)
        self.assertIn(cert, caught.exception.faultString)
        self.assertEqual(tlsRequest(address, context, payload=b"")[1], second)

        third, _ = self.ca.leaf("127.0.0.1", file="served")
        os.kill(process.popen.pid, signal.SIGHUP)
        # The admin call above logged the first of these lines.
        process.waitFor(r"service default: certificates reloaded", count=2)
        self.assertEqual(tlsRequest(address, context, payload=b"")[1], derOf(third))
        kept.sendall(b"three")
        self.assertEqual(kept.recv(10), b"three")
        self.assertNotIn("Traceback", process.output)

    def test_tacChanged(self):
        """
        A SIGHUP after the .tac names another certificate serves it to new
        clients; the open connection goes on.
        """
        first, firstKey = self.ca.leaf("127.0.0.1", file="first")
        second, secondKey = self.ca.leaf("127.0.0.1", file="second")
        path = self.tac(first, firstKey)
        process, address = startTwistd(self, ["txlb", "--config", path])
        context = clientContext(self.ca.caPath)
        kept = context.wrap_socket(socket.create_connection(address, timeout=10), server_hostname="localhost")
        self.addCleanup(kept.close)
        self.assertEqual(kept.getpeercert(binary_form=True), derOf(first))
        with open(path) as f:
            text = f.read()
        with open(path, "w") as f:
            f.write(text.replace(repr(first), repr(second)).replace(repr(firstKey), repr(secondKey)))
        os.kill(process.popen.pid, signal.SIGHUP)
        process.waitFor(r"set-service default")
        self.assertEqual(tlsRequest(address, context, payload=b"")[1], derOf(second))
        kept.sendall(b"still")
        self.assertEqual(kept.recv(10), b"still")
        self.assertNotIn("Traceback", process.output)

    def test_workers(self):
        """
        With --workers 2, each worker does the TLS of the shared port: a
        --tls-cert listener and an ssl: listener both relay, to clients that
        offer application protocols (ALPN) too.
        """
        cert, key = self.ca.leaf("127.0.0.1")
        context = clientContext(self.ca.caPath)
        for listen in (
            ["--listen", "tcp:0:interface=127.0.0.1", "--tls-cert", cert, "--tls-key", key],
            ["--listen", f"ssl:0:interface=127.0.0.1:privateKey={key}:certKey={cert}"],
        ):
            process, address = startTwistd(
                self, ["txlb", "--workers", "2", *listen, *ADMIN, "--backend", self.backend.address]
            )
            serving(process)
            for _ in range(24):
                self.assertEqual(tlsRequest(address, context, payload=b"ping")[0], b"ping")
            rpc = xmlrpc.client.ServerProxy(adminURL(process))
            accepted = [w["accepted"] for w in rpc.getWorkers()]
            self.assertEqual(len(accepted), 2)
            self.assertTrue(all(accepted), accepted)
            self.assertNotIn("Traceback", process.output)
            process.stop()

    def test_workersReload(self):
        """
        With --workers 2, reloadCertificates and a SIGHUP to worker 0
        reload the certificates of both workers.
        """
        cert, key = self.ca.leaf("127.0.0.1")
        process, address = startTwistd(
            self,
            ["txlb", "--workers", "2", *LISTEN, "--tls-cert", cert, "--tls-key", key, *ADMIN,
             "--backend", self.backend.address],
        )
        serving(process)
        rpc = xmlrpc.client.ServerProxy(adminURL(process))
        self.assertTrue(rpc.reloadCertificates())
        process.waitFor(r"worker 1: .*service default: certificates reloaded")
        os.kill(process.popen.pid, signal.SIGHUP)
        process.waitFor(r"worker 1: .*service default: certificates reloaded", count=2)
        process.waitFor(r"^(?!.*worker \d+:).*\] service default: certificates reloaded", count=2)
        self.assertNotIn("Traceback", process.output)


class ExampleTests(SynchronousTestCase):
    """
    The documented example: tacs/make-tls-certs.sh and tacs/tls.tac.
    """

    def test_exampleChecks(self):
        """
        The script makes the example certificates, and txlb check accepts
        tacs/tls.tac with them.
        """
        directory = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, directory, True)
        subprocess.run(["sh", os.path.join(ROOT, "tacs", "make-tls-certs.sh"), directory], check=True,
                       stdout=subprocess.DEVNULL)
        for name in ("ca.pem", "localhost.crt", "localhost.key", "www.example.crt", "client.crt"):
            self.assertTrue(os.path.exists(os.path.join(directory, name)), name)
        os.environ["TXLB_TLS_DIR"] = directory
        self.addCleanup(os.environ.pop, "TXLB_TLS_DIR")
        check = Process(TXLB + ["check", "tacs/tls.tac"])
        self.assertEqual(check.wait(), 0, check.output)
        self.assertIn("tacs/tls.tac: OK", check.output)
