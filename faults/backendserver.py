"""
A backend for the fault suite, as its own process (so it can be killed):
C{python -m faults.backendserver MODE [--port N] [--bytes N]
[--period S]}. It prints C{backend listening on PORT} once bound.

Modes: C{echo} (send back what arrives, close after the client's EOF),
C{source} (send C{--bytes} bytes, then close; prints C{source paused} the
first time the peer stops reading), C{sink} (accept, never read),
C{silent} (read and discard, never answer), C{flap} (echo, but stop
listening and reset every connection every C{--period} seconds, then
listen again).
"""

import argparse
import sys

from twisted.internet.interfaces import IHalfCloseableProtocol, IPushProducer
from twisted.internet.protocol import Factory, Protocol
from zope.interface import implementer

from txlb._limits import raiseFileLimit

CHUNK = b"\xa5" * 65536


def say(text):
    """
    One line on stdout, at once (the suite waits for these lines).
    """
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


@implementer(IHalfCloseableProtocol)
class Echo(Protocol):
    """
    Send back what arrives; close once the peer has closed its side.
    """

    def connectionMade(self):
        self.factory.open.add(self)

    def dataReceived(self, data):
        self.transport.write(data)

    def readConnectionLost(self):
        self.transport.loseConnection()

    def writeConnectionLost(self):
        self.transport.loseConnection()

    def connectionLost(self, reason):
        self.factory.open.discard(self)


@implementer(IPushProducer)
class Source(Protocol):
    """
    Send C{factory.size} bytes as fast as the peer takes them, then close.
    """

    def connectionMade(self):
        self.left = self.factory.size
        self.paused = False
        self.transport.registerProducer(self, True)
        self.resumeProducing()

    def pauseProducing(self):
        self.paused = True
        if not self.factory.reportedPause:
            self.factory.reportedPause = True
            say("source paused")

    def resumeProducing(self):
        self.paused = False
        while not self.paused and self.left > 0:
            chunk = CHUNK[: min(len(CHUNK), self.left)]
            self.left -= len(chunk)
            self.transport.write(chunk)
        if self.left <= 0:
            self.transport.unregisterProducer()
            self.transport.loseConnection()

    def stopProducing(self):
        self.left = 0


class Sink(Protocol):
    """
    Accept and never read.
    """

    def connectionMade(self):
        self.transport.pauseProducing()
        say("sink connected")


class Silent(Protocol):
    """
    Read and discard; never answer.
    """

    def dataReceived(self, data):
        pass


class Flapping:
    """
    Every C{period} seconds, go down (stop listening, reset every open
    connection) or come back up on the same port.
    """

    def __init__(self, reactor, factory, port, period):
        self.reactor = reactor
        self.factory = factory
        self.portNumber = port.getHost().port
        self.port = port
        self.period = period

    def flip(self):
        """
        Go down when up, up when down; do it again in C{period} seconds.
        """
        if self.port is not None:
            self.port.stopListening()
            self.port = None
            for protocol in list(self.factory.open):
                protocol.transport.abortConnection()
        else:
            self.port = self.reactor.listenTCP(
                self.portNumber, self.factory, interface="127.0.0.1"
            )
        self.reactor.callLater(self.period, self.flip)


PROTOCOLS = {"echo": Echo, "source": Source, "sink": Sink, "silent": Silent, "flap": Echo}


def main(argv=None):
    """
    Run one backend until killed.
    """
    parser = argparse.ArgumentParser(prog="backendserver")
    parser.add_argument("mode", choices=sorted(PROTOCOLS))
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--bytes", type=int, default=100 * 1024 * 1024)
    parser.add_argument("--period", type=float, default=0.3)
    args = parser.parse_args(argv)
    raiseFileLimit()
    from twisted.internet import reactor

    factory = Factory.forProtocol(PROTOCOLS[args.mode])
    factory.noisy = False
    factory.open = set()
    factory.size = args.bytes
    factory.reportedPause = False
    port = reactor.listenTCP(args.port, factory, backlog=1024, interface="127.0.0.1")
    say(f"backend listening on {port.getHost().port}")
    if args.mode == "flap":
        reactor.callLater(args.period, Flapping(reactor, factory, port, args.period).flip)
    reactor.run()


if __name__ == "__main__":
    main()
