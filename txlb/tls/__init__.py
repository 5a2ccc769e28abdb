"""
TLS on both sides of txlb (see doc/tls.rst): to hosts (L{TLSConnector}:
a failed handshake is a failed connect) and from clients
(L{ServerContexts}: certificates by SNI name, client certificates,
reloading, expiry).
"""

from txlb.tls._client import HandshakeFailed, TLSConnector, handshakeReason, tlsConnector
from txlb.tls._server import ServerContexts, refuseALPN

__all__ = ["HandshakeFailed", "ServerContexts", "TLSConnector", "handshakeReason", "refuseALPN", "tlsConnector"]
