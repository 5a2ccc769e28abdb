"""
The running txlb's side of a handover: a protocol on the handover socket
that sends every listening socket (Twisted's C{sendFileDescriptor}) and
the running description (or, for a balancer built without one, the
admin journal), and on C{taken} releases them and leaves.
"""

import json
import os

from twisted.internet.protocol import Factory
from twisted.logger import Logger
from twisted.protocols.basic import LineOnlyReceiver

from txlb.plain import toPlain


class Giving(LineOnlyReceiver):
    """
    One process asking for the sockets. A second one asking while a
    handover is under way is turned away.
    """

    log = Logger()
    delimiter = b"\n"
    MAX_LENGTH = 64

    def __init__(self, handover):
        self.handover = handover
        self.released = False

    def connectionMade(self):
        handover = self.handover
        if handover.giving is not None:
            self.transport.loseConnection()
            return
        handover.giving = self
        entries = []
        for kind, name, description, port in handover.sockets():
            self.transport.sendFileDescriptor(port.fileno())
            entries.append([kind, name, description, port.socket.family])
        spec = handover.balancer.spec
        message = {
            "pid": os.getpid(),
            "sockets": entries,
            "config": toPlain(spec) if spec is not None else None,
            "journal": handover.journal,
        }
        self.transport.write(json.dumps(message).encode("utf-8") + self.delimiter)
        self.log.info(
            "handover: sent {count} sockets and {what} to a new process",
            count=len(entries),
            what="the running configuration" if spec is not None else f"{len(handover.journal)} admin changes",
        )

    def lineReceived(self, line):
        if line != b"taken" or self.released:
            self.transport.loseConnection()
            return
        self.released = True
        d = self.handover.release()
        d.addCallback(lambda _: self.sendLine(b"released"))

    def connectionLost(self, reason):
        handover = self.handover
        if handover.giving is not self:
            return
        if self.released:
            handover.leave()
        else:
            handover.giving = None
            self.log.warn("handover: the new process went away before taking over; still serving")


class GivingFactory(Factory):
    """
    Makes a L{Giving} per connection to the handover socket.
    """

    noisy = False

    def __init__(self, handover):
        self.handover = handover

    def buildProtocol(self, addr):
        return Giving(self.handover)
