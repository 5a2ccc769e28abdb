"""
Reading certificates and keys from PEM files (with C{pem}, which finds
every object in a file whatever their order), into the forms
C{twisted.internet.ssl} takes. Every problem is one L{ConfigError}
sentence naming the file.
"""

from datetime import timezone

import pem
from OpenSSL import SSL, crypto
from twisted.internet import ssl

from txlb.errors import ConfigError


def _objects(path, what):
    try:
        objects = pem.parse_file(path)
    except OSError as e:
        raise ConfigError(f"cannot read the {what} {path}: {e.strerror or e}") from None
    if not objects:
        raise ConfigError(f"the {what} {path} holds no PEM certificate or key")
    return objects


def certificates(path, what="certificate file"):
    """
    Every certificate in C{path}, in order, as L{ssl.Certificate}s.

    @raise ConfigError: when the file cannot be read or holds none.
    """
    found = [o for o in _objects(path, what) if isinstance(o, pem.Certificate)]
    if not found:
        raise ConfigError(f"the {what} {path} holds no certificate")
    try:
        return [ssl.Certificate.loadPEM(o.as_bytes()) for o in found]
    except crypto.Error:
        raise ConfigError(f"the {what} {path} holds a certificate that cannot be read") from None


def _key(path, what):
    keys = [o for o in _objects(path, what) if isinstance(o, pem.Key)]
    if not keys:
        raise ConfigError(f"the {what} {path} holds no private key")
    try:
        return ssl.KeyPair.load(keys[0].as_bytes(), crypto.FILETYPE_PEM)
    except crypto.Error:
        raise ConfigError(f"the {what} {path} holds a key that cannot be read") from None


def identity(certPath, keyPath=None, chainPath=None):
    """
    A certificate with its key and chain: C{(PrivateCertificate, [chain
    certificates])}. The key is in C{keyPath}, or in C{certPath} when None;
    the chain is C{chainPath}'s certificates plus any that follow the first
    one in C{certPath}.

    @raise ConfigError: for a missing file, a file without what it should
        hold, or a key that does not match the certificate.
    """
    certs = certificates(certPath)
    key = _key(keyPath or certPath, "key file" if keyPath else "certificate file")
    chain = certs[1:] + (certificates(chainPath, "chain file") if chainPath else [])
    try:
        context = SSL.Context(SSL.TLS_METHOD)
        context.use_certificate(certs[0].original.to_cryptography())
        context.use_privatekey(key.original.to_cryptography_key())
        context.check_privatekey()
    except SSL.Error:
        raise ConfigError(f"the key in {keyPath or certPath} does not match the certificate in {certPath}") from None
    return ssl.PrivateCertificate.fromCertificateAndKeyPair(certs[0], key), chain


def expiry(certificate):
    """
    When C{certificate} (an L{ssl.Certificate}) expires, in seconds since
    the epoch.
    """
    notAfter = certificate.original.to_cryptography().not_valid_after_utc
    return notAfter.replace(tzinfo=timezone.utc).timestamp()
