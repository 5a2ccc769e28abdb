"""
The pumping of bytes between a client and its host once both are
connected: each transport is the other's streaming producer (backpressure
both ways), a half-close on one side is passed on to the other, an
abortive close (a reset) is passed on as a reset, and bulk transfers are
handed to the kernel (L{txlb._splice}).

The two sides share everything but which counter their bytes go to:
L{End} holds what both do, L{BackendSide} and the relay's client side
each add three lines of hot path.
"""

from twisted.internet.error import ConnectionAborted, ConnectionDone, ConnectionLost
from twisted.internet.interfaces import IHalfCloseableProtocol, ISSLTransport
from twisted.internet.protocol import Protocol
from zope.interface import implementer

from txlb import _splice
from txlb._twisted import setNoDelay

#: A read this large means bulk data: the relay tries the zero-copy path.
SPLICE_AFTER = 16 * 1024


def isReset(reason):
    """
    True when a connection was lost any other way than a clean close: a
    reset, an error, or an abort.
    """
    return not reason.check(ConnectionDone)


def peerReset(reason):
    """
    True when the other end reset the connection (not when txlb aborted it).
    """
    return bool(reason.check(ConnectionLost)) and not reason.check(ConnectionAborted)


def halfClose(transport):
    """
    Close the sending direction of C{transport}. A TLS transport has no
    C{loseWriteConnection} of its own (Twisted's wrapper would pass it on to
    the TCP connection under it, sending a FIN inside the TLS stream): its
    C{loseConnection} sends TLS's close_notify and keeps reading until the
    other end closes too, which is TLS's half-close.
    """
    if ISSLTransport.providedBy(transport):
        # The side that stopped sending produces nothing more; a producer
        # still registered would hold the close_notify back.
        transport.unregisterProducer()
        transport.loseConnection()
    else:
        transport.loseWriteConnection()


@implementer(IHalfCloseableProtocol)
class End(Protocol):
    """
    One side of a relayed pair.

    @ivar peer: the other side once both are connected, else None; set back
        to None when either side is lost, so nothing reaches a side that is
        gone.
    """

    peer = None
    readClosed = False
    writeClosed = False

    def readConnectionLost(self):
        # This side sent its last byte: pass the half-close on.
        self.readClosed = True
        peer = self.peer
        if peer is not None:
            halfClose(peer.transport)
        if self.writeClosed:
            self.transport.loseConnection()

    def writeConnectionLost(self):
        # Twisted keeps a half-closeable connection open until it is told to
        # close, even once both directions are shut.
        self.writeClosed = True
        if self.readClosed:
            self.transport.loseConnection()

    def unjoin(self, reason):
        """
        This side is gone: close the other side the same way (a reset
        stays a reset) and stop feeding it. Returns the other side, or
        None when there was none.
        """
        peer = self.peer
        if peer is None:
            return None
        self.peer = None
        peer.peer = None
        # A lost peer must not stay the producer: Twisted's doWrite would
        # wait for it to resume instead of finishing loseConnection.
        peer.transport.unregisterProducer()
        if isReset(reason):
            peer.transport.abortConnection()
        else:
            peer.transport.loseConnection()
        return peer


class BackendSide(End):
    """
    The connection from txlb to a host, relaying the host's bytes to the
    client.

    @ivar relay: the client's side (a L{txlb.relay.ClientSide}).
    """

    def __init__(self, relay, host, connected):
        """
        @param connected: called with this side once connected.
        """
        self.relay = relay
        self.host = host
        self._connected = connected

    def connectionMade(self):
        connected, self._connected = self._connected, None
        connected(self)

    def dataReceived(self, data):
        relay = self.relay
        peer = self.peer
        if peer is None:
            return
        if not (len(data) >= SPLICE_AFTER and relay.spliceable and relay.spliceWith(data, peer.transport)):
            peer.transport.write(data)
        relay.active = True
        self.host.bytesOut += len(data)
        relay.routeCount.bytesOut += len(data)

    def connectionLost(self, reason):
        self.relay.backendLost(self, reason)


def join(client, backend, pending, resume):
    """
    Start relaying between two connected sides: TCP_NODELAY on the backend,
    producers both ways, C{pending} (what the client sent while txlb was
    connecting) written first, and a half-close the client made meanwhile
    passed on. C{resume} is called when the client had been paused for
    sending too much too early.
    """
    backendTransport = backend.transport
    setNoDelay(backendTransport)
    client.peer = backend
    backend.peer = client
    backendTransport.registerProducer(client.transport, True)
    client.transport.registerProducer(backendTransport, True)
    if pending:
        backendTransport.writeSequence(pending)
        if resume:
            client.transport.resumeProducing()
    if client.readClosed:
        halfClose(backendTransport)


def handOff(reactor, client, backend, data, sink, countIn, countOut, resetRelayed):
    """
    Move a connection that reads full chunks to the kernel: when no write
    waits in either transport, deliver C{data} to C{sink} (one of the two
    transports) directly and splice both sockets from now on.

    @return: None when the connection cannot be spliced (the caller writes
        C{data} as usual and may try again later); otherwise it never tries
        again, and the result is the started L{txlb._splice.Splice}, C{True}
        when C{data} was delivered but the sockets stay with Twisted, or
        C{False} when nothing was delivered (the caller writes C{data}).
    """
    if client.readClosed or backend.readClosed or not (
        _splice.spliceable(client.transport) and _splice.spliceable(backend.transport)
    ):
        return None
    try:
        sent = sink.socket.send(data)
    except OSError:
        return False
    if sent != len(data):
        sink.write(data[sent:])
        return True
    backend.transport.unregisterProducer()
    client.transport.unregisterProducer()
    splice = _splice.Splice(
        reactor, client.transport, backend.transport, countIn, countOut, resetRelayed
    )
    splice.start()
    return splice
