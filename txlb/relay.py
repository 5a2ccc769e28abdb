"""
The relay: one client connection, failed over between hosts until one
answers, then streamed both ways with backpressure and half-closes.

The hot path (C{dataReceived} on either side) does one write and one
counter update; everything else happens once per connection.
"""

from twisted.internet.error import ConnectionRefusedError, TimeoutError
from twisted.internet.interfaces import IHalfCloseableProtocol
from twisted.internet.protocol import ClientFactory, Protocol, ServerFactory
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from txlb import _splice
from txlb.address import formatAddress
from txlb.errors import NoHostAvailable

#: A read this large means bulk data: the relay tries the zero-copy path.
SPLICE_AFTER = 16 * 1024


def _noDelay(transport):
    setTcpNoDelay = getattr(transport, "setTcpNoDelay", None)
    if setTcpNoDelay is not None:
        try:
            setTcpNoDelay(True)
        except OSError:
            pass


def _failureReason(reason):
    """
    One short phrase for why a connection attempt failed.
    """
    if reason.check(ConnectionRefusedError):
        return "connection refused"
    if reason.check(TimeoutError):
        return "connect timed out"
    message = reason.getErrorMessage()
    return message.strip().rstrip(".") or reason.type.__name__


class _Attempt(ClientFactory):
    """
    One connection attempt from a client to a host.
    """

    noisy = False

    def __init__(self, client, host):
        self.client = client
        self.host = host
        self.connector = None
        self.timer = None
        self.abandoned = False

    def abandon(self):
        """
        Stop the attempt; nothing it reports afterwards is heard.
        """
        self.abandoned = True
        if self.timer is not None and self.timer.active():
            self.timer.cancel()
        if self.connector is not None:
            self.connector.stopConnecting()

    def buildProtocol(self, addr):
        if self.abandoned:
            return None
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        return BackendSide(self.client, self.host)

    def clientConnectionFailed(self, connector, reason):
        if not self.abandoned:
            if self.timer is not None and self.timer.active():
                self.timer.cancel()
            self.client._attemptFailed(self, reason)

    def timedOut(self):
        self.timer = None
        reason = Failure(TimeoutError("connect timed out"))
        self.abandon()
        self.client._attemptFailed(self, reason)


@implementer(IHalfCloseableProtocol)
class BackendSide(Protocol):
    """
    The connection from txlb to a host, relaying the host's bytes to the
    client.
    """


    def __init__(self, client, host):
        self.client = client
        self.host = host
        self.readClosed = False
        self.writeClosed = False

    def connectionMade(self):
        self.client._backendConnected(self)

    def dataReceived(self, data):
        client = self.client
        if not (len(data) >= SPLICE_AFTER and client.spliceable and client._spliceWith(data, client.transport)):
            client.transport.write(data)
        client.active = True
        self.host.bytesOut += len(data)

    def readConnectionLost(self):
        self.readClosed = True
        self.client._backendHalfClosed()
        if self.writeClosed:
            self.transport.loseConnection()

    def writeConnectionLost(self):
        # Twisted keeps a half-closeable connection open until it is told to
        # close, even once both directions are shut.
        self.writeClosed = True
        if self.readClosed:
            self.transport.loseConnection()

    def connectionLost(self, reason):
        self.client._backendLost(self, reason)


@implementer(IHalfCloseableProtocol)
class ClientSide(Protocol):
    """
    A client connection accepted by a listener.

    Until a host answers, what the client sends is kept (up to the service's
    buffer size, after which reading pauses); then each transport is the
    other's streaming producer.
    """

    log = Logger()

    def __init__(self, service):
        self.service = service
        self.pool = None
        self.host = None
        self.backend = None
        self.tried = ()
        self.pending = []
        self.pendingSize = 0
        self.attempt = None
        self.waiter = None
        self.readClosed = False
        self.writeClosed = False
        self.done = False
        self.active = False
        self.idleTimer = None
        self.splice = None
        self.spliceable = False

    # Client events

    def connectionMade(self):
        _noDelay(self.transport)
        self.service.accepted += 1
        self.service.clients.add(self)
        self.pool = self.service.pool
        if self.service.idleTimeout:
            self.idleTimer = self.service.clock.callLater(
                self.service.idleTimeout, self._idleCheck
            )
        self._tryNext()

    def dataReceived(self, data):
        backend = self.backend
        if backend is not None:
            if not (len(data) >= SPLICE_AFTER and self.spliceable and self._spliceWith(data, backend.transport)):
                backend.transport.write(data)
            self.host.bytesIn += len(data)
            self.active = True
            return
        if self.done:
            return
        self.pending.append(data)
        self.pendingSize += len(data)
        if self.pendingSize >= self.service.bufferSize:
            self.transport.pauseProducing()

    def readConnectionLost(self):
        self.readClosed = True
        if self.backend is not None:
            self.backend.transport.loseWriteConnection()
        if self.writeClosed:
            self.transport.loseConnection()

    def writeConnectionLost(self):
        self.writeClosed = True
        if self.readClosed:
            self.transport.loseConnection()

    def connectionLost(self, reason):
        self.done = True
        self._stopIdleTimer()
        self.service.clientClosed(self)
        if self.backend is not None:
            self.backend.transport.unregisterProducer()
            self.backend.transport.loseConnection()
        elif self.attempt is not None:
            self.attempt.abandon()
            self.attempt = None
            self._release()
        elif self.waiter is not None:
            self.pool.cancelWait(self.waiter)
            self.waiter = None

    # Choosing and connecting

    def _tryNext(self):
        if self.done:
            return
        if len(self.tried) >= self.service.maxTries:
            self._giveUp("no host answered after %d tries" % len(self.tried))
            return
        pool = self.pool
        try:
            host = pool.pick(self.transport.getPeer(), self.tried)
        except NoHostAvailable:
            if pool.anyUp() and not self.tried:
                self.waiter = pool.wait(self.transport.getPeer(), self.tried, self._dequeued)
                if self.waiter is not None:
                    return
                self._giveUp("the wait queue is full")
                return
            if self.tried:
                self._giveUp("no other host is available")
            else:
                pool.refused += 1
                self._giveUp("no host is available")
            return
        pool.opened(host)
        self._connect(host)

    def _dequeued(self, host):
        self.waiter = None
        if host is None:
            self._giveUp("no host had a free slot within the queue timeout")
        else:
            self._connect(host)

    def _connect(self, host):
        self.host = host
        self.tried = self.tried + (host,)
        attempt = self.attempt = _Attempt(self, host)
        service = self.service
        attempt.timer = service.clock.callLater(service.connectTimeout, attempt.timedOut)
        attempt.connector = host.connector.connect(service.reactor, attempt)

    def _attemptFailed(self, attempt, reason):
        if attempt is not self.attempt:
            return
        self.attempt = None
        host = self.host
        self._release()
        self.pool.connectFailed(host, _failureReason(reason))
        self._tryNext()

    def _giveUp(self, why):
        self.done = True
        self.pending = []
        self.service.noteUnreachable(self, why)
        self.transport.loseConnection()

    def _release(self):
        host = self.host
        if host is not None:
            self.host = None
            self.pool.closed(host)

    # Backend events

    def _backendConnected(self, backend):
        self.attempt = None
        self.backend = backend
        self.pool.connectSucceeded(self.host)
        backendTransport = backend.transport
        _noDelay(backendTransport)
        self.spliceable = self.service.splice and _splice.available()
        backendTransport.registerProducer(self.transport, True)
        self.transport.registerProducer(backendTransport, True)
        if self.pending:
            self.host.bytesIn += self.pendingSize
            backendTransport.writeSequence(self.pending)
            self.pending = []
            if self.pendingSize >= self.service.bufferSize and not self.done:
                self.transport.resumeProducing()
            self.pendingSize = 0
        if self.readClosed:
            backendTransport.loseWriteConnection()

    def _spliceWith(self, data, sink):
        """
        A connection that reads full chunks is moving bulk data: when no
        write is waiting in either transport, deliver C{data} to C{sink}
        (a transport) directly and hand both sockets to the kernel
        (L{txlb._splice}). True when C{data} was delivered.
        """
        backend = self.backend.transport
        if self.readClosed or self.backend.readClosed or not (
            _splice.spliceable(self.transport) and _splice.spliceable(backend)
        ):
            return False
        self.spliceable = False
        self.service.spliced += 1
        try:
            sent = sink.socket.send(data)
        except OSError:
            return False
        if sent != len(data):
            sink.write(data[sent:])
            return True
        host = self.host

        def countIn(n):
            host.bytesIn += n
            self.active = True

        def countOut(n):
            host.bytesOut += n
            self.active = True

        backend.unregisterProducer()
        self.transport.unregisterProducer()
        self.splice = _splice.Splice(self.service.reactor, self.transport, backend, countIn, countOut)
        self.splice.start()
        return True

    def _backendHalfClosed(self):
        if not self.done:
            self.transport.loseWriteConnection()

    def _backendLost(self, backend, reason):
        self._release()
        # The client's bytes may still arrive in this reactor iteration
        # (epoll reported both sockets): with no backend and done, they
        # are dropped instead of reaching a released host.
        self.backend = None
        # A lost peer must not stay the producer: Twisted's doWrite would
        # wait for it to resume instead of finishing loseConnection.
        self.transport.unregisterProducer()
        if not self.done:
            self.done = True
            self.transport.loseConnection()

    # Idle timeout

    def _idleCheck(self):
        if self.active:
            self.active = False
            self.idleTimer = self.service.clock.callLater(
                self.service.idleTimeout, self._idleCheck
            )
            return
        self.idleTimer = None
        self.abort()

    def abort(self):
        """
        Reset the client connection and the backend connection, if any.
        """
        if self.splice is not None:
            self.splice.abort()
            return
        self.transport.abortConnection()
        if self.backend is not None:
            self.backend.transport.abortConnection()

    def _stopIdleTimer(self):
        if self.idleTimer is not None and self.idleTimer.active():
            self.idleTimer.cancel()
        self.idleTimer = None


class RelayFactory(ServerFactory):
    """
    Builds a L{ClientSide} for each connection a service's listener accepts.
    """

    noisy = False

    def __init__(self, service):
        self.service = service

    def buildProtocol(self, addr):
        protocol = ClientSide(self.service)
        protocol.factory = self
        return protocol


__all__ = ["ClientSide", "BackendSide", "RelayFactory", "formatAddress"]
