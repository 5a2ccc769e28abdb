"""
One socket of a lean pair, as the reactor sees it.
"""

from twisted.internet.interfaces import IReadWriteDescriptor
from zope.interface import implementer


@implementer(IReadWriteDescriptor)
class Side:
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
