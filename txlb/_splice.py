"""
The zero-copy path (Linux): once a client and its host are connected, and
both are plain TCP sockets, bytes move between them inside the kernel with
C{splice(2)} through one pipe per direction, never entering Python.

The relay hands both sockets over from their Twisted transports (which
stop reading and writing) to one L{_End} per socket registered with the
same reactor. Each direction reads what its source has into its pipe and
writes the pipe out to its sink; when the sink cannot take more, reading
from the source stops until it can (the pipe, 256 KiB of kernel memory, is
all a direction holds). A source's end of file is passed on as a
half-close once its pipe is empty. Splicing is for bulk transfers: the
relay moves a connection here only once it reads large chunks, so short
connections never pay for the pipes. When both directions have ended, or
anything fails, the sockets are given back to their transports to close,
so that the relay's accounting runs exactly as on the normal path.
"""

import fcntl
import os
import socket
import sys

from twisted.internet import tcp
from twisted.internet.interfaces import IReadWriteDescriptor
from zope.interface import implementer

from txlb._twisted import writeQueued

_splice = getattr(os, "splice", None)
_FLAGS = getattr(os, "SPLICE_F_MOVE", 1) | getattr(os, "SPLICE_F_NONBLOCK", 2)
CHUNK = 256 * 1024


def _pipe():
    pipe = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        # A larger pipe moves a bulk transfer in fewer, larger steps.
        fcntl.fcntl(pipe[1], fcntl.F_SETPIPE_SZ, CHUNK)
    except (OSError, AttributeError):
        pass
    return pipe


def _close(pipe):
    for fd in pipe:
        try:
            os.close(fd)
        except OSError:
            pass


def available():
    """
    True when this Python and OS can splice (Linux, Python 3.10 or later).
    """
    return _splice is not None and sys.platform.startswith("linux")


def spliceable(transport):
    """
    True when C{transport} is Twisted's own plain TCP connection with no
    write waiting: its socket can be handed over. A TLS connection (whose
    wrapper forwards attributes to the TCP transport beneath it), a UNIX
    socket or anything else never is.
    """
    if not isinstance(transport, tcp.Connection) or transport.TLS:
        return False
    if transport.socket.family not in (socket.AF_INET, socket.AF_INET6):
        return False
    if writeQueued(transport):
        return False
    return not transport.disconnecting and not transport.disconnected


@implementer(IReadWriteDescriptor)
class _End:
    """
    One socket while it is spliced: its reads feed L{outgoing}, its
    writes drain L{incoming}.
    """

    __slots__ = ("splice", "transport", "fd", "socket", "outgoing", "incoming", "reading", "writing")

    def __init__(self, splice, transport):
        self.splice = splice
        self.transport = transport
        self.socket = transport.socket
        self.fd = transport.fileno()
        self.outgoing = None
        self.incoming = None
        self.reading = False
        self.writing = False

    def fileno(self):
        return self.fd

    def logPrefix(self):
        return "txlb-splice"

    def doRead(self):
        self.splice.pump(self.outgoing)

    def doWrite(self):
        self.splice.flush(self.incoming)

    def connectionLost(self, reason):
        self.splice.lost()


class _Direction:
    __slots__ = ("source", "sink", "pipeRead", "pipeWrite", "inPipe", "eof", "done", "count")

    def __init__(self, source, sink, count):
        self.source = source
        self.sink = sink
        self.pipeRead, self.pipeWrite = _pipe()
        self.inPipe = 0
        self.eof = False
        self.done = False
        self.count = count
        source.outgoing = self
        sink.incoming = self


class Splice:
    """
    Relays between a client's transport and its host's transport inside
    the kernel.

    @param countIn: called with each number of bytes delivered from the
        client to the host; C{countOut} likewise the other way.
    @param resetRelayed: called when one side failed (a reset, most often)
        and both are reset.
    """

    def __init__(self, reactor, client, backend, countIn, countOut, resetRelayed=lambda: None):
        self.reactor = reactor
        self.resetRelayed = resetRelayed
        self.clientEnd = _End(self, client)
        self.backendEnd = _End(self, backend)
        self.directions = (
            _Direction(self.clientEnd, self.backendEnd, countIn),
            _Direction(self.backendEnd, self.clientEnd, countOut),
        )
        self.finished = False

    def start(self):
        """
        Take both sockets over from their transports.
        """
        for end in (self.clientEnd, self.backendEnd):
            end.transport.stopReading()
            end.transport.stopWriting()
            self._read(end, True)

    # Moving bytes

    def pump(self, d):
        if d.inPipe == 0 and not d.eof:
            try:
                n = _splice(d.source.fd, d.pipeWrite, CHUNK, flags=_FLAGS)
            except BlockingIOError:
                return
            except OSError:
                self._failed()
                return
            if n == 0:
                d.eof = True
                self._read(d.source, False)
            else:
                d.inPipe = n
        self.flush(d)

    def flush(self, d):
        while d.inPipe:
            try:
                n = _splice(d.pipeRead, d.sink.fd, d.inPipe, flags=_FLAGS)
            except BlockingIOError:
                n = 0
            except OSError:
                self._failed()
                return
            if n == 0:
                # The sink is full: stop reading until it drains.
                self._read(d.source, False)
                self._write(d.sink, True)
                return
            d.inPipe -= n
            d.count(n)
        self._write(d.sink, False)
        if not d.eof:
            self._read(d.source, True)
        elif not d.done:
            d.done = True
            try:
                d.sink.socket.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            if all(x.done for x in self.directions):
                self.close()

    def _read(self, end, on):
        if on != end.reading:
            end.reading = on
            (self.reactor.addReader if on else self.reactor.removeReader)(end)

    def _write(self, end, on):
        if on != end.writing:
            end.writing = on
            (self.reactor.addWriter if on else self.reactor.removeWriter)(end)

    # Ending

    def _detach(self):
        if self.finished:
            return False
        self.finished = True
        for end in (self.clientEnd, self.backendEnd):
            self._read(end, False)
            self._write(end, False)
        for d in self.directions:
            _close((d.pipeRead, d.pipeWrite))
        return True

    def close(self):
        """
        Both directions ended (or one failed): give the sockets back to
        their transports, which close them.
        """
        if self._detach():
            self.clientEnd.transport.loseConnection()
            self.backendEnd.transport.loseConnection()

    def _failed(self):
        # One side failed (reset by its peer, most often): a reset is
        # relayed as a reset, never as a clean end of stream.
        if not self.finished:
            self.resetRelayed()
        self.abort()

    def abort(self):
        """
        Reset both connections now.
        """
        if self._detach():
            self.clientEnd.transport.abortConnection()
            self.backendEnd.transport.abortConnection()

    def lost(self):
        """
        The reactor disconnected one of the sockets (it is shutting down,
        or reported an error): close both.
        """
        self.close()


__all__ = ["Splice", "available", "spliceable"]
