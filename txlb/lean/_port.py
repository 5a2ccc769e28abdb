"""
The lean path's listening socket, and what it shares per service.
"""

import errno
import os
import socket

from twisted.internet import defer
from twisted.internet.endpoints import TCP4ServerEndpoint, TCP6ServerEndpoint
from twisted.internet.error import CannotListenError
from twisted.internet.interfaces import IReadDescriptor
from twisted.internet.posixbase import PosixReactorBase
from twisted.logger import Logger
from zope.interface import implementer

from txlb._twisted import tcpEndpointAddress
from txlb.lean._pair import Pair, address
from txlb.lean._wheel import Wheel

#: Connections one readiness event of a listening socket accepts at most.
ACCEPT_BATCH = 64


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
        self.connected = False
        #: How many connections the next readiness event accepts at most
        #: (a service's maxconn lowers it: txlb._twisted.limitAccepts).
        self.numberAccepts = ACCEPT_BATCH
        # Failed accepts are logged here, as tcp.Port logs them, so that
        # the listener's rate-limited observer takes them the same way
        # (txlb._twisted.observeAcceptErrors).
        self._logger = Logger()

    @classmethod
    def adopt(cls, reactor, factory, fd, family):
        """
        A L{LeanPort} accepting on a copy of the listening socket C{fd}
        (one handed over by another process, C{txlb.handover}); the caller
        still owns C{fd}.
        """
        port = cls(reactor, factory, "", 0, 0)
        skt = socket.socket(family, socket.SOCK_STREAM, fileno=os.dup(fd))
        skt.setblocking(False)
        port.socket = skt
        port.fd = skt.fileno()
        port.family = family
        port.connected = True
        reactor.addReader(port)
        return port

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
        self.connected = True
        self.reactor.addReader(self)

    def startReading(self):
        """
        Accept again (after L{stopReading}).
        """
        if self.socket is not None:
            self.reactor.addReader(self)

    def stopReading(self):
        """
        Accept nothing for now: new clients wait in the kernel's backlog.
        """
        if self.socket is not None:
            self.reactor.removeReader(self)

    def getHost(self):
        return address(self.family, self.socket.getsockname())

    def stopListening(self):
        if self.socket is not None:
            self.reactor.removeReader(self)
            self.socket.close()
            self.socket = None
            self.fd = -1
        self.connected = False
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
        batch, self.numberAccepts = self.numberAccepts, ACCEPT_BATCH
        for _ in range(batch):
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
            # accept() gives a blocking socket: a send to a client that
            # does not read would stop the reactor.
            skt.setblocking(False)
            if lean.carries():
                Pair(lean, skt, address(self.family, sockaddr), self).start()
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
        plain = isinstance(listener.endpoint, (TCP4ServerEndpoint, TCP6ServerEndpoint))
        # A listener whose factory wraps the relay's (a PROXY header
        # reader) keeps Twisted's port.
        if address is None or not plain or getattr(listener.factory, "lean", None) is not self:
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
