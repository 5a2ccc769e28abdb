"""
One relayed pair on the lean path: a client's socket and its host's socket,
registered with the reactor directly.
"""

import socket

from twisted.internet.address import IPv4Address, IPv6Address

from txlb import _splice, terminations
from txlb.lean._connect import Connecting, why
from txlb.lean._side import Side

#: The most one read takes from a socket.
READ_SIZE = 65536
#: A read this large means bulk data: the zero-copy path is tried.
SPLICE_AFTER = 16 * 1024
#: SO_LINGER on, 0 seconds: close() resets the connection.
_LINGER_ZERO = b"\x01\x00\x00\x00\x00\x00\x00\x00"


def address(family, sockaddr):
    """
    The L{IAddress} of a TCP socket address.
    """
    if family == socket.AF_INET6:
        return IPv6Address("TCP", sockaddr[0], sockaddr[1])
    return IPv4Address("TCP", sockaddr[0], sockaddr[1])


class Pair(Connecting):
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
        "bytesOut", "connectTime", "clientKey", "__weakref__",
    )

    def __init__(self, lean, skt, peer, port):
        """
        @param port: the L{LeanPort} that accepted C{skt}.
        """
        self.lean = lean
        self.service = lean.service
        self.settings = lean.settings
        self.reactor = lean.reactor
        self.client = Side(self, skt)
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
        self.clientKey = None

    # The client's address as a transport would say it (for logs).

    def getPeer(self):
        return self.peer

    def getHost(self):
        skt = self.client.socket
        return address(skt.family, skt.getsockname())

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
                self._attemptFailed(why(err))
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
            self._attemptFailed(why(err) if err else "connection lost")
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
