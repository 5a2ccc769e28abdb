"""
The lean connection path: plain TCP from accept to close without Twisted's
generic transports.

Twisted's TCP transport serves every protocol; a relayed connection needs
little of it, and pays per connection for what it does not need (a
transport object per socket with its buffers, a connector and its
Deferreds, a C{callLater} per timeout, several epoll registrations and
removals, extra C{connect_ex} and C{shutdown} calls). Here one L{Pair} owns
the client's socket and its host's socket and registers them with the
reactor directly (as L{IReadDescriptor}/L{IWriteDescriptor}), only while
the state needs it: a side is read while its peer has nothing unsent
(backpressure), written only while it has something unsent or is
connecting. A connect is one C{connect_ex}, its result read from
C{SO_ERROR} when the socket becomes writable; bytes go straight to the
socket and only what it did not take is kept. Connect and idle timeouts
live on one coarse L{Wheel} per service, swept four times a second.

Everything else is the normal path's: the pool's leases, waits and
refusals, failover to untried hosts, exact counters, half-closes and
resets relayed as they came, the zero-copy hand-off for bulk transfers
(L{txlb._splice}), draining on stop, and one word of L{txlb.terminations}
per connection. A connection the lean path cannot carry (its host is not a
TCP address, or needs TLS or a PROXY header) is handed at accept, before
any host is chosen, to Twisted's transports and the normal relay.
"""

import errno
import os
import socket

from twisted.internet import defer
from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.endpoints import TCP4ServerEndpoint, TCP6ServerEndpoint
from twisted.internet.error import CannotListenError
from twisted.internet.interfaces import IReadDescriptor, IReadWriteDescriptor
from twisted.internet.posixbase import PosixReactorBase
from twisted.internet.task import LoopingCall
from twisted.logger import Logger
from zope.interface import implementer

from txlb import _splice, terminations
from txlb._twisted import tcpEndpointAddress
from txlb.interfaces import ILease, IRefusal

#: Connections one readiness event of a listening socket accepts at most.
ACCEPT_BATCH = 64
#: The most one read takes from a socket.
READ_SIZE = 65536
#: A read this large means bulk data: the zero-copy path is tried.
SPLICE_AFTER = 16 * 1024
#: Seconds between sweeps of the timeout wheel.
TICK = 0.25

_OUT_OF_DESCRIPTORS = (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)
_LINGER_ZERO = b"\x01\x00\x00\x00\x00\x00\x00\x00"


def _why(err):
    """
    A failed connect's reason, worded as the normal path words it.
    """
    if err == errno.ECONNREFUSED:
        return "connection refused"
    return os.strerror(err).lower()


def _address(family, sockaddr):
    if family == socket.AF_INET6:
        return IPv6Address("TCP", sockaddr[0], sockaddr[1])
    return IPv4Address("TCP", sockaddr[0], sockaddr[1])


class Wheel:
    """
    Deadlines kept to a quarter of a second: C{add(when, callback, *args)};
    a callback is cancelled by the caller ignoring it (each owner checks a
    generation number), so adding is one list append.
    """

    def __init__(self, clock, tick=TICK):
        self.clock = clock
        self.tick = tick
        self.slots = {}
        self._loop = None

    def add(self, when, callback, *args):
        slot = int(when / self.tick) + 1
        entries = self.slots.get(slot)
        if entries is None:
            entries = self.slots[slot] = []
        entries.append((callback, args))

    def start(self):
        self._loop = LoopingCall(self.sweep)
        self._loop.clock = self.clock
        self._loop.start(self.tick, now=False)

    def stop(self):
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        self._loop = None

    def sweep(self):
        """
        Run every callback whose time has come.
        """
        now = int(self.clock.seconds() / self.tick)
        due = [slot for slot in self.slots if slot <= now]
        for slot in sorted(due):
            for callback, args in self.slots.pop(slot):
                callback(*args)


@implementer(IReadDescriptor)
class LeanPort:
    """
    A listening TCP socket that accepts in batches and gives each new
    connection to a L{Pair} (or, for a service the lean path cannot carry
    now, to Twisted's transports and the normal relay).
    """

    def __init__(self, reactor, factory, interface, port, backlog, reusePort=False):
        """
        @param factory: the service's L{txlb.relay.RelayFactory}.
        """
        self.reactor = reactor
        self.factory = factory
        self.service = factory.service
        self.interface = interface
        self.port = port
        self.backlog = backlog
        self.reusePort = reusePort
        self.socket = None
        self.fd = -1
        # Failed accepts are logged here, as tcp.Port logs them, so that
        # the listener's rate-limited observer takes them the same way
        # (txlb._twisted.observeAcceptErrors).
        self._logger = Logger()

    def startListening(self):
        """
        Bind and listen.

        @raise CannotListenError: when the address cannot be bound.
        """
        family = socket.AF_INET6 if ":" in self.interface else socket.AF_INET
        skt = socket.socket(family, socket.SOCK_STREAM | socket.SOCK_NONBLOCK | socket.SOCK_CLOEXEC)
        try:
            skt.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if self.reusePort:
                skt.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            skt.bind((self.interface, self.port))
            skt.listen(self.backlog)
        except OSError as e:
            skt.close()
            raise CannotListenError(self.interface, self.port, e)
        self.socket = skt
        self.fd = skt.fileno()
        self.family = family
        self.reactor.addReader(self)

    def getHost(self):
        return _address(self.family, self.socket.getsockname())

    def stopListening(self):
        if self.socket is not None:
            self.reactor.removeReader(self)
            self.socket.close()
            self.socket = None
            self.fd = -1
        return defer.succeed(None)

    loseConnection = stopListening

    def fileno(self):
        return self.fd

    def logPrefix(self):
        return "txlb-lean-port"

    def connectionLost(self, reason):
        self.stopListening()

    def doRead(self):
        service = self.service
        lean = service.lean
        accept = self.socket.accept
        for _ in range(ACCEPT_BATCH):
            try:
                skt, sockaddr = accept()
            except BlockingIOError:
                return None
            except OSError as e:
                # EMFILE and friends: the backlog holds the client until a
                # descriptor is free.
                self._logger.info(
                    "Could not accept new connection ({acceptError})",
                    acceptError=errno.errorcode.get(e.errno, str(e)),
                )
                return None
            if lean.carries():
                Pair(lean, skt, _address(self.family, sockaddr), self).start()
            else:
                lean.handToTwisted(skt, self.factory)
        return None


def listen(reactor, factory, interface, port, backlog, reusePort=False):
    """
    Start a L{LeanPort}; a Deferred firing with it, or failing with
    L{CannotListenError}.
    """
    leanPort = LeanPort(reactor, factory, interface, port, backlog, reusePort)
    try:
        leanPort.startListening()
    except CannotListenError as e:
        return defer.fail(e)
    return defer.succeed(leanPort)


def carriesOn(reactor):
    """
    True for a reactor the lean path can register sockets with: one of
    Twisted's readiness reactors (epoll, poll, select), not a memory
    reactor of the tests or a completion reactor.
    """
    return isinstance(reactor, PosixReactorBase)


class LeanRelay:
    """
    What the lean path shares per service: the timeout wheel and the
    decision which connections it carries.
    """

    def __init__(self, service):
        self.service = service
        self.reactor = service.reactor
        self.clock = service.clock
        self.settings = service.settings
        self.wheel = Wheel(service.clock)

    def start(self):
        self.wheel.start()

    def bind(self, listener):
        """
        Listen for C{listener} (a L{txlb.listener.Listener}): a L{LeanPort}
        for a plain TCP endpoint, Twisted's port for any other.
        """
        address = tcpEndpointAddress(listener.endpoint)
        if address is None or not isinstance(listener.endpoint, (TCP4ServerEndpoint, TCP6ServerEndpoint)):
            return listener.endpoint.listen(listener.factory)
        return listen(self.reactor, listener.factory, *address)

    def stop(self):
        self.wheel.stop()

    def carries(self):
        """
        True when every host of the enabled group can be reached by the
        lean path (plain TCP to an IP address, no TLS, no PROXY header).
        """
        return self.service.pool.plainTCP

    def handToTwisted(self, skt, factory):
        """
        Give an accepted socket to Twisted's transports and the normal relay.
        """
        try:
            self.reactor.adoptStreamConnection(skt.fileno(), skt.family, factory)
        except OSError:
            pass
        skt.close()


@implementer(IReadWriteDescriptor)
class _Side:
    """
    One socket of a L{Pair}; its readiness events go to the pair. It also
    answers what the zero-copy path asks of a transport.
    """

    __slots__ = ("pair", "socket", "fd", "out", "reading", "writing", "eof", "shutPending", "closed")

    def __init__(self, pair, skt):
        self.pair = pair
        self.socket = skt
        self.fd = skt.fileno()
        self.out = None
        self.reading = False
        self.writing = False
        self.eof = False
        self.shutPending = False
        self.closed = False

    def fileno(self):
        return self.fd

    def logPrefix(self):
        return "txlb-lean"

    def doRead(self):
        self.pair.readable(self)

    def doWrite(self):
        self.pair.writable(self)

    def connectionLost(self, reason):
        self.reading = self.writing = False
        self.pair.lost(self, reason)

    # What L{txlb._splice.Splice} asks of a transport.

    def stopReading(self):
        self.pair.read(self, False)

    def stopWriting(self):
        self.pair.write(self, False)

    def loseConnection(self):
        self.pair.spliceEnded(False)

    def abortConnection(self):
        self.pair.spliceEnded(True)


class Pair:
    """
    One client connection and its host's connection.

    It answers what the access log and the admin read of a client
    connection on the normal path: C{termination}, C{acceptedAt},
    C{host}, C{lease}, C{tried}, C{group}, C{bytesIn}, C{bytesOut},
    C{connectTime}, C{factory}.
    """

    __slots__ = (
        "lean", "service", "settings", "reactor", "client", "backend", "peer", "transport",
        "acceptedAt", "termination", "host", "lease", "tried", "waiting", "pending",
        "pendingSize", "connecting", "active", "idleGen", "splice", "spliceable", "done",
        "finished", "firstEOF", "route", "listener", "port", "factory", "group", "bytesIn",
        "bytesOut", "connectTime", "__weakref__",
    )

    def __init__(self, lean, skt, peer, port):
        """
        @param port: the L{LeanPort} that accepted C{skt}.
        """
        self.lean = lean
        self.service = lean.service
        self.settings = lean.settings
        self.reactor = lean.reactor
        self.client = _Side(self, skt)
        self.backend = None
        self.peer = peer
        self.transport = self
        self.acceptedAt = lean.clock.seconds()
        self.termination = None
        self.host = None
        self.lease = None
        self.tried = ()
        self.waiting = None
        self.pending = []
        self.pendingSize = 0
        self.connecting = 0
        self.active = False
        self.idleGen = 0
        self.splice = None
        self.spliceable = False
        self.done = False
        self.finished = False
        self.firstEOF = None
        self.route = None
        self.port = port
        self.factory = port.factory
        self.listener = port.factory.listener
        self.group = None
        self.bytesIn = 0
        self.bytesOut = 0
        self.connectTime = None

    # The client's address as a transport would say it (for logs).

    def getPeer(self):
        return self.peer

    def getHost(self):
        skt = self.client.socket
        return _address(skt.family, skt.getsockname())

    # Starting and choosing

    def start(self):
        skt = self.client.socket
        try:
            skt.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        self.service.clientOpened(self, lean=True)
        self.read(self.client, True)
        if self.settings.idleTimeout:
            self._idleLater()
        self._tryNext()

    def ended(self, termination):
        """
        Say how the connection ends, unless that was said already.
        """
        if self.termination is None:
            self.termination = termination

    def _tryNext(self):
        if self.finished:
            return
        if len(self.tried) >= self.settings.maxTries:
            self._giveUp(terminations.CONNECT_FAILED, "no host answered after %d tries" % len(self.tried))
            return
        pool = self.service.pool
        self.group = pool.name
        outcome = pool.acquire(self.peer, self.tried, self._granted)
        if ILease.providedBy(outcome):
            self._connect(outcome)
        elif IRefusal.providedBy(outcome):
            self._refused(outcome)
        else:
            self.waiting = outcome

    def _granted(self, outcome):
        self.waiting = None
        if ILease.providedBy(outcome):
            self._connect(outcome)
        else:
            self._refused(outcome)

    def _refused(self, refusal):
        termination = terminations.FROM_REFUSAL.get(refusal.kind, terminations.NO_HOST)
        if self.tried and termination == terminations.NO_HOST:
            termination = terminations.CONNECT_FAILED
        self._giveUp(termination, refusal.reason)

    def _giveUp(self, termination, why):
        self.ended(termination)
        self.pending = []
        self.service.noteUnreachable(self, why)
        self._finish()

    # Connecting

    def _connect(self, lease):
        self.lease = lease
        host = self.host = lease.host
        self.tried = self.tried + (host,)
        connector = host.connector
        family = socket.AF_INET6 if ":" in connector.host else socket.AF_INET
        try:
            skt = socket.socket(family, socket.SOCK_STREAM | socket.SOCK_NONBLOCK | socket.SOCK_CLOEXEC)
        except OSError as e:
            self.lease, self.host = None, None
            if e.errno in _OUT_OF_DESCRIPTORS:
                # This process is out of descriptors: not the host's fault.
                # Said with the listener's failed accepts (one line a
                # second); the client is closed at once, which frees one.
                lease.release()
                self.port._logger.info(
                    "Could not open a connection to a host ({error})", error=errno.errorcode[e.errno]
                )
                self._giveUp(terminations.CONNECT_FAILED, "out of file descriptors")
                return
            lease.failed(e.strerror or str(e))
            self._tryNext()
            return
        try:
            skt.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        self.backend = _Side(self, skt)
        self.connecting += 1
        err = skt.connect_ex((connector.host, connector.port))
        if err in (0, errno.EINPROGRESS):
            self.write(self.backend, True)
            self.lean.wheel.add(
                self.lean.clock.seconds() + self.settings.connectTimeout, self._connectTimedOut, self.connecting
            )
        else:
            self._attemptFailed(_why(err))

    def _connectTimedOut(self, generation):
        if generation == self.connecting and self.lease is not None and self.lease.connectedAt is None:
            self._attemptFailed("connect timed out")

    def _connected(self):
        backend = self.backend
        self.connecting += 1
        lease = self.lease
        lease.connected()
        self.connectTime = lease.connectedAt - lease.granted
        self.spliceable = self.settings.splice and _splice.available()
        self.read(backend, True)
        if self.pending:
            data = b"".join(self.pending)
            self.pending = []
            paused = self.pendingSize >= self.settings.bufferSize
            self.pendingSize = 0
            self.host.bytesIn += len(data)
            self.bytesIn += len(data)
            self._send(backend, data)
            if paused and not backend.out and not self.client.eof:
                self.read(self.client, True)
        if self.client.eof:
            self._shutWrite(backend)

    def _attemptFailed(self, reason):
        self.connecting += 1
        backend, self.backend = self.backend, None
        self._close(backend, reset=False)
        lease, self.lease = self.lease, None
        self.host = None
        lease.failed(reason)
        self._tryNext()

    # Readiness events

    def read(self, side, on):
        if side is None or side.closed or on == side.reading:
            return
        side.reading = on
        (self.reactor.addReader if on else self.reactor.removeReader)(side)

    def write(self, side, on):
        if side is None or side.closed or on == side.writing:
            return
        side.writing = on
        (self.reactor.addWriter if on else self.reactor.removeWriter)(side)

    def readable(self, side):
        other = self.backend if side is self.client else self.client
        connected = self.lease is not None and self.lease.connectedAt is not None
        try:
            data = side.socket.recv(READ_SIZE)
        except BlockingIOError:
            return
        except OSError as e:
            self._reset(side, e)
            return
        if not data:
            side.eof = True
            self.read(side, False)
            if self.firstEOF is None:
                self.firstEOF = side
            if connected:
                self._shutWrite(other)
            return
        if not connected:
            # The client talks before a host answered: keep it, up to the
            # buffer size.
            self.pending.append(data)
            self.pendingSize += len(data)
            if self.pendingSize >= self.settings.bufferSize:
                self.read(side, False)
            return
        n = len(data)
        self.active = True
        if side is self.client:
            self.host.bytesIn += n
            self.bytesIn += n
        else:
            self.host.bytesOut += n
            self.bytesOut += n
        if n >= SPLICE_AFTER and self.spliceable and self._handOff(side, other, data):
            return
        self._send(other, data)
        if other.out:
            # Backpressure: read no more until the other side took it.
            self.read(side, False)

    def writable(self, side):
        if side is self.backend and self.lease is not None and self.lease.connectedAt is None:
            err = side.socket.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            self.write(side, False)
            if err:
                self._attemptFailed(_why(err))
            else:
                self._connected()
            return
        data, side.out = side.out, None
        if data is not None:
            self._send(side, data)
        if side.out is None:
            self.write(side, False)
            source = self.client if side is self.backend else self.backend
            if not source.eof:
                self.read(source, True)
            if side.shutPending:
                self._shutWrite(side)

    def _send(self, side, data):
        if side.out is not None:
            side.out += data
            return
        try:
            sent = side.socket.send(data)
        except BlockingIOError:
            sent = 0
        except OSError as e:
            self._reset(side, e)
            return
        if sent < len(data):
            side.out = data[sent:]
            self.write(side, True)

    def _shutWrite(self, side):
        if side.out is not None:
            side.shutPending = True
            return
        side.shutPending = False
        try:
            side.socket.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        self._maybeFinish()

    def _maybeFinish(self):
        # Both directions ended and were passed on: the connection is over.
        client, backend = self.client, self.backend
        if backend is None or not (client.eof and backend.eof):
            return
        if client.out is None and backend.out is None and not (client.shutPending or backend.shutPending):
            self.ended(
                terminations.CLIENT_CLOSED if self.firstEOF is client else terminations.BACKEND_CLOSED
            )
            self._finish()

    # Ending

    def _reset(self, side, error):
        """
        C{side} failed (a reset, most often): reset the other side too.
        """
        if self.finished:
            return
        if side is self.client:
            self.ended(terminations.CLIENT_RESET)
        else:
            self.ended(terminations.BACKEND_RESET)
        if self.lease is not None and self.lease.connectedAt is not None:
            self.service.resetRelayed()
        self.abort(None)

    def abort(self, termination):
        """
        Reset both connections now.

        @param termination: why, a word of L{txlb.terminations} (or None
            when already said).
        """
        if termination is not None:
            self.ended(termination)
        if self.finished:
            return
        if self.splice is not None:
            self.splice.abort()
            return
        self._close(self.client, reset=True)
        if self.backend is not None:
            self._close(self.backend, reset=True)
        self._finish()

    def _close(self, side, reset):
        if side.closed:
            return
        self.read(side, False)
        self.write(side, False)
        side.closed = True
        if reset:
            try:
                side.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_ZERO)
            except OSError:
                pass
        side.socket.close()

    def _finish(self):
        """
        The connection is over: close what is open, give the host back,
        leave the queue, tell the service (once).
        """
        if self.finished:
            return
        self.finished = self.done = True
        self.connecting += 1
        self.idleGen += 1
        if self.waiting is not None:
            waiting, self.waiting = self.waiting, None
            waiting.cancel()
        if not self.client.closed:
            self._close(self.client, reset=False)
        if self.backend is not None and not self.backend.closed:
            self._close(self.backend, reset=False)
        lease, self.lease = self.lease, None
        if lease is not None:
            lease.release()
        self.service.clientClosed(self)

    def lost(self, side, reason):
        """
        The reactor saw C{side}'s socket hang up or fail while no data was
        waiting: a failed connect, or a reset.
        """
        if side.closed or self.finished:
            return
        if side is self.backend and self.lease is not None and self.lease.connectedAt is None:
            err = side.socket.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            self._attemptFailed(_why(err) if err else "connection lost")
            return
        self._reset(side, None)

    # The zero-copy path

    def _handOff(self, side, other, data):
        client, backend = self.client, self.backend
        if client.eof or backend.eof or client.out is not None or backend.out is not None:
            return False
        if client.socket.family not in (socket.AF_INET, socket.AF_INET6):
            return False
        self.spliceable = False
        self.service.spliced += 1
        try:
            sent = other.socket.send(data)
        except OSError:
            return False
        if sent != len(data):
            other.out = data[sent:]
            self.write(other, True)
            self.read(side, False)
            return True
        host = self.host

        def countIn(n):
            host.bytesIn += n
            self.bytesIn += n
            self.active = True

        def countOut(n):
            host.bytesOut += n
            self.bytesOut += n
            self.active = True

        self.splice = _splice.Splice(self.reactor, client, backend, countIn, countOut, self.service.resetRelayed)
        self.splice.start()
        return True

    def spliceEnded(self, reset):
        """
        The zero-copy path gave the sockets back (called once per side).
        """
        if self.finished:
            return
        self.splice = None
        if reset:
            self.ended(terminations.BACKEND_RESET)
            self.abort(None)
        else:
            self.ended(terminations.CLIENT_CLOSED)
            self._finish()

    # Idle timeout

    def _idleLater(self):
        self.idleGen += 1
        self.lean.wheel.add(
            self.lean.clock.seconds() + self.settings.idleTimeout, self._idleCheck, self.idleGen
        )

    def _idleCheck(self, generation):
        if generation != self.idleGen or self.finished:
            return
        if self.active:
            self.active = False
            self._idleLater()
            return
        self.abort(terminations.IDLE_TIMEOUT)
