"""
When the relay may hand a connection to the kernel: plain TCP transports
with nothing waiting to be written, and nothing else.
"""

import socket

from twisted.internet import tcp
from twisted.internet.testing import StringTransport
from twisted.protocols.policies import ProtocolWrapper
from twisted.trial.unittest import SynchronousTestCase

from txlb import _splice


class _TCP(tcp.Connection):
    """
    A Twisted TCP transport on a socket that is not connected (only what
    the relay reads of it is set).
    """

    def __init__(self, family=socket.AF_INET):
        self.socket = socket.socket(family, socket.SOCK_STREAM)
        self.dataBuffer = b""
        self._tempDataBuffer = []
        self.disconnecting = False
        self.disconnected = False


class SpliceableTests(SynchronousTestCase):
    def transport(self, family=socket.AF_INET):
        t = _TCP(family)
        self.addCleanup(t.socket.close)
        return t

    def test_plainTCP(self):
        """
        An idle IPv4 or IPv6 TCP transport can be spliced.
        """
        self.assertTrue(_splice.spliceable(self.transport()))
        self.assertTrue(_splice.spliceable(self.transport(socket.AF_INET6)))

    def test_waitingWrites(self):
        """
        Bytes waiting in the transport's buffers would be overtaken: no.
        """
        buffered = self.transport()
        buffered.dataBuffer = b"x"
        pending = self.transport()
        pending._tempDataBuffer = [b"x"]
        self.assertFalse(_splice.spliceable(buffered))
        self.assertFalse(_splice.spliceable(pending))

    def test_closing(self):
        """
        A transport that is closing stays with Twisted.
        """
        closing = self.transport()
        closing.disconnecting = True
        self.assertFalse(_splice.spliceable(closing))

    def test_notTCP(self):
        """
        UNIX sockets, TLS and memory transports are not spliced.
        """
        unix = self.transport(socket.AF_UNIX)
        startedTLS = self.transport()
        startedTLS.TLS = True
        # What an ssl: listener gives the relay: a TLSMemoryBIOProtocol, a
        # ProtocolWrapper that forwards attributes to the TCP transport
        # beneath it.
        wrapped = ProtocolWrapper.__new__(ProtocolWrapper)
        wrapped.transport = self.transport()
        self.assertTrue(_splice.spliceable(wrapped.transport))
        self.assertFalse(_splice.spliceable(wrapped))
        self.assertFalse(_splice.spliceable(unix))
        self.assertFalse(_splice.spliceable(startedTLS))
        self.assertFalse(_splice.spliceable(StringTransport()))
