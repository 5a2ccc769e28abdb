"""
Test certificates made at test time: a certificate authority and leaf
certificates it signs, written as PEM files into a directory removed at
the test's cleanup. Nothing here is a real key; nothing is committed.
"""

import datetime
import ipaddress
import os
import shutil
import socket
import ssl
import tempfile
import threading

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def _name(common):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _pem(key):
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


class Authority:
    """
    A certificate authority in C{directory}: C{Authority.caPath} is its
    certificate; L{leaf} makes and signs certificates for names.
    """

    def __init__(self, directory, name="txlb test CA"):
        self.directory = directory
        self.key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(_name(name))
            .issuer_name(_name(name))
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True, content_commitment=False, key_encipherment=False,
                    data_encipherment=False, key_agreement=False, key_cert_sign=True,
                    crl_sign=True, encipher_only=False, decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        self.caPath = self._write("ca.pem", self.cert.public_bytes(serialization.Encoding.PEM))

    def _write(self, name, data):
        path = os.path.join(self.directory, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def leaf(self, name, days=10, client=False, combined=False, file=None):
        """
        A key and a certificate for DNS name (and, for an IP, IP address)
        C{name} signed by this authority, valid C{days} from yesterday;
        return C{(certPath, keyPath)} (C{combined}: both in one file,
        returned twice).
        """
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        try:
            alt = x509.IPAddress(ipaddress.ip_address(name))
        except ValueError:
            alt = x509.DNSName(name)
        usage = ExtendedKeyUsageOID.CLIENT_AUTH if client else ExtendedKeyUsageOID.SERVER_AUTH
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(name))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName([alt]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False
            )
            .sign(self.key, hashes.SHA256())
        )
        base = file or name.replace(":", "_")
        certPem = cert.public_bytes(serialization.Encoding.PEM)
        if combined:
            path = self._write(base + ".pem", certPem + _pem(key))
            return path, path
        return self._write(base + ".crt", certPem), self._write(base + ".key", _pem(key))


def authority(testCase, name="txlb test CA"):
    """
    A new L{Authority} in a directory removed at C{testCase}'s cleanup.
    """
    directory = tempfile.mkdtemp()
    testCase.addCleanup(shutil.rmtree, directory, True)
    return Authority(directory, name)


def notAfter(path):
    """
    The expiry of the certificate in C{path}, seconds since the epoch.
    """
    with open(path, "rb") as f:
        cert = x509.load_pem_x509_certificate(f.read())
    return cert.not_valid_after_utc.timestamp()


class TLSBackend:
    """
    A real TLS backend on 127.0.0.1 in a thread of the test process: it
    serves C{certPath}/C{keyPath}, and for each connection whose handshake
    completes sends its name and closes.

    @ivar connections: handshakes completed.
    @ivar servernames: the names clients asked for (SNI), in order.
    @ivar address: C{127.0.0.1:PORT}.
    """

    def __init__(self, certPath, keyPath, name="tls-backend"):
        self.name = name
        self.connections = 0
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(certPath, keyPath)
        self.servernames = []
        self.context.sni_callback = lambda sock, name, context: self.servernames.append(name)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.address = f"127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn):
        conn.settimeout(10)
        try:
            tls = self.context.wrap_socket(conn, server_side=True)
        except (ssl.SSLError, OSError):
            conn.close()
            return
        self.connections += 1
        try:
            tls.sendall(self.name.encode() + b"\n")
            tls.unwrap()
        except (ssl.SSLError, OSError):
            pass
        tls.close()

    def stop(self):
        """
        Stop accepting.
        """
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


def startTLSBackend(testCase, certPath, keyPath, name="tls-backend"):
    """
    Start a L{TLSBackend} stopped at C{testCase}'s cleanup.
    """
    backend = TLSBackend(certPath, keyPath, name)
    testCase.addCleanup(backend.stop)
    return backend
