"""
The plumbing every connection-based check shares: one connection to a
host through its connector, a Deferred for the verdict, and cancellation.
"""

from twisted.internet.defer import Deferred
from twisted.internet.protocol import ClientFactory, Protocol

from txlb import proxyheader
from txlb.failover import failureReason


class CheckFailed(Exception):
    """
    A host failed a check; the message says why in a few words.
    """


class ProbeProtocol(Protocol):
    """
    The base of a check's protocol: call L{passed} or L{failed} once; the
    connection is closed either way.
    """

    probe = None

    def makeConnection(self, transport):
        # A host that expects a PROXY header gets one first, saying the
        # connection is txlb's own (what HAProxy's check-send-proxy does).
        if self.probe is not None and self.probe.proxy is not None:
            transport.write(proxyheader.local(self.probe.proxy))
        Protocol.makeConnection(self, transport)

    def passed(self):
        """
        The host passed; close the connection.
        """
        self.probe.settle(None)
        self.transport.loseConnection()

    def failed(self, why):
        """
        The host failed for C{why}; close the connection.
        """
        self.probe.settle(CheckFailed(why))
        self.transport.abortConnection()

    def connectionLost(self, reason):
        self.probe.settle(CheckFailed(self.lostWhy()))

    def lostWhy(self):
        """
        What to say when the host closed before a verdict.
        """
        return "closed the connection before answering"


class Probe(ClientFactory):
    """
    One connection attempt for a check, shaped for C{IConnector.connect}.

    @ivar deferred: fires with None on a pass, fails with L{CheckFailed}.
    """

    noisy = False

    def __init__(self, makeProtocol):
        self.makeProtocol = makeProtocol
        self.deferred = Deferred(self._cancel)
        self.connector = None
        self.protocol = None
        self.proxy = None

    def start(self, reactor, host, timeout):
        """
        Connect to C{host}; return L{deferred}. The C{timeout} is the
        caller's to apply, by cancelling L{deferred}. A host that expects a
        PROXY protocol header (C{host.proxy}) is sent one first.
        """
        self.proxy = getattr(host, "proxy", None)
        self.connector = host.connector.connect(reactor, self)
        return self.deferred

    def buildProtocol(self, addr):
        if self.deferred.called:
            return None
        protocol = self.protocol = self.makeProtocol()
        protocol.probe = self
        return protocol

    def clientConnectionFailed(self, connector, reason):
        self.settle(CheckFailed(failureReason(reason)))

    def settle(self, result):
        """
        Give the verdict (None or a L{CheckFailed}) unless one was given.
        """
        if self.deferred.called:
            return
        if isinstance(result, Exception):
            self.deferred.errback(result)
        else:
            self.deferred.callback(result)

    def _cancel(self, deferred):
        deferred.errback(CheckFailed("timed out"))
        if self.protocol is not None and self.protocol.transport is not None:
            self.protocol.transport.abortConnection()
        elif self.connector is not None:
            self.connector.stopConnecting()
