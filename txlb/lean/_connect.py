"""
How a lean pair finds a host that answers: the pool's leases, waits and
refusals, one C{connect_ex} per attempt with its result from C{SO_ERROR},
the connect timeout on the service's wheel, failover to untried hosts.
"""

import errno
import os
import socket

from txlb import _splice, terminations
from txlb.asking import AsksPool
from txlb.lean._side import Side

_OUT_OF_DESCRIPTORS = (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)


def why(err):
    """
    A failed connect's reason, worded as the normal path words it.
    """
    if err == errno.ECONNREFUSED:
        return "connection refused"
    return os.strerror(err).lower()


class Connecting(AsksPool):
    """
    The connecting half of L{txlb.lean.Pair}: from accept until a host
    answers or the client is given up. Its state lives in the pair's slots.
    """

    __slots__ = ()

    # Starting and choosing

    def start(self):
        skt = self.client.socket
        try:
            skt.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        service = self.service
        service.clientOpened(self, lean=True)
        if service.admit(self) is not None:
            # Refused at accept (access list, per-client limits): closed
            # before any backend work.
            self.ended(terminations.REFUSED)
            self._finish()
            return
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
        pool = self.service.pool
        self.group = pool.name
        self._ask(pool, self.peer)

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
        self.backend = Side(self, skt)
        self.connecting += 1
        err = skt.connect_ex((connector.host, connector.port))
        if err in (0, errno.EINPROGRESS):
            self.write(self.backend, True)
            self.lean.wheel.add(
                self.lean.clock.seconds() + self.settings.connectTimeout, self._connectTimedOut, self.connecting
            )
        else:
            self._attemptFailed(why(err))

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
