"""
The relay: one client connection, from accept to close.

It joins two parts that know nothing of each other: the failover attempt
(L{txlb.failover}: a host that answers) and the pumping of bytes
(L{txlb.pump}: both ways, with backpressure and half-closes). Until a
host answers, what the client sends is kept (up to the service's buffer
size, after which reading pauses). When the service routes on what the
client shows (L{txlb.routing}), the client's first bytes are read as a TLS
ClientHello first (up to a deadline), the group is chosen, and only then is
a host looked for; those bytes are relayed unchanged. The hot path (C{dataReceived} on either
side) does one write and one counter update.
"""

from twisted.internet.interfaces import IHandshakeListener, ISSLTransport
from twisted.internet.protocol import ServerFactory
from twisted.logger import Logger
from zope.interface import implementer

from txlb import _splice, proxyheader, terminations
from txlb._twisted import setNoDelay
from txlb.clienthello import NOT_HELLO, HelloReader
from txlb.failover import Failover
from txlb.routing import DEFAULT_ROUTE, Connection
from txlb.pump import SPLICE_AFTER, End, handOff, join, peerReset
from txlb.relaysettings import DEFAULT_HANDSHAKE_TIMEOUT, RelaySettings
from txlb.tls._client import handshakeReason
from txlb.tls._server import tlsHello

@implementer(IHandshakeListener)
class ClientSide(End):
    """
    A client connection accepted by a listener.

    @ivar service: the L{txlb.proxy.ProxyService} that accepted it.
    @ivar lease: the host's L{txlb.interfaces.ILease} once connected.
    @ivar acceptedAt: when the client was accepted (the service's clock).
    @ivar termination: how the connection ended, a word of
        L{txlb.terminations}, set once by whoever sees the end first;
        None while it runs.
    @ivar clientKey: C{(table, address)}: the per-client table
        (L{txlb.clientlimits.ClientTable}) this connection counts in and
        under which address, or None.
    @ivar route: the name of the route that chose the group
        (L{txlb.routing}; C{default} when none did), once routed.
    @ivar connection: the L{txlb.routing.Connection} routed, once routed.
    @ivar bytesIn: bytes relayed from the client to its host.
    @ivar bytesOut: bytes relayed from the host to the client.
    @ivar tried: the hosts tried, in order (known once a host answered, the
        client was given up, or the client left).
    @ivar connectTime: seconds the host took to accept, or None.
    @ivar group: the name of the group the client was given to, once
        routed.
    """

    termination = None
    clientKey = None
    route = None
    connection = None
    listener = None
    acceptedAt = None
    bytesIn = 0
    bytesOut = 0
    tried = ()
    connectTime = None
    group = None
    handshakeTimer = None
    handshakeWhy = None

    log = Logger()

    def __init__(self, service):
        self.service = service
        self.settings = service.settings
        self.failover = None
        self.lease = None
        self.host = None
        self.pending = []
        self.pendingSize = 0
        self.done = False
        self.active = False
        self.idleTimer = None
        self.splice = None
        self.spliceable = False
        self.hello = None
        self.helloTimer = None
        self.routeCount = None

    # Client events

    def connectionMade(self):
        setNoDelay(self.transport)
        service = self.service
        self.acceptedAt = service.clock.seconds()
        service.clientOpened(self)
        if service.admit(self) is not None:
            self.ended(terminations.REFUSED)
            self.done = True
            self.transport.loseConnection()
            return
        if self.settings.idleTimeout:
            self.idleTimer = service.clock.callLater(self.settings.idleTimeout, self._idleCheck)
        if ISSLTransport.providedBy(self.transport):
            # A TLS client is served once its handshake is done
            # (handshakeCompleted), within a deadline.
            self.handshakeTimer = service.clock.callLater(
                self.settings.handshakeTimeout or DEFAULT_HANDSHAKE_TIMEOUT, self._handshakeTimedOut
            )
            return
        routing = service.routing
        if routing is not None and routing.needsHello:
            self.hello = HelloReader()
            self.helloTimer = service.clock.callLater(self.settings.helloTimeout, self._helloTimedOut)
        else:
            self._route(None)

    def handshakeCompleted(self):
        """
        The client's TLS handshake is done: route it with the name it asked
        for (SNI), and find it a host.
        """
        timer, self.handshakeTimer = self.handshakeTimer, None
        if timer is not None and timer.active():
            timer.cancel()
        if not self.done:
            self._route(tlsHello(self.transport))

    def _handshakeTimedOut(self):
        self.handshakeTimer = None
        self.handshakeWhy = "handshake timed out"
        self.abort(terminations.TLS_FAILED)

    def dataReceived(self, data):
        peer = self.peer
        if peer is not None:
            size = len(data)
            if not (size >= SPLICE_AFTER and self.spliceable and self.spliceWith(data, peer.transport)):
                peer.transport.write(data)
            self.host.bytesIn += size
            self.routeCount.bytesIn += size
            self.bytesIn += size
            self.active = True
            return
        if self.done:
            return
        self.pending.append(data)
        self.pendingSize += len(data)
        if self.pendingSize >= self.settings.bufferSize:
            self.transport.pauseProducing()
        hello = self.hello
        if hello is not None:
            result = hello.feed(data)
            if result is not None:
                self._route(None if result is NOT_HELLO else result)
            elif self.pendingSize >= self.settings.bufferSize:
                self._route(None)

    # Routing

    def _helloTimedOut(self):
        self.helloTimer = None
        self._route(None)

    def _route(self, hello):
        """
        Choose the group (with the client's ClientHello, or None) and start
        looking for a host in it.
        """
        self.hello = None
        if self.helloTimer is not None:
            if self.helloTimer.active():
                self.helloTimer.cancel()
            self.helloTimer = None
        service = self.service
        peer = self.transport.getPeer()
        routing = service.routing
        if routing is None:
            self.route, pool, client = DEFAULT_ROUTE, service.pool, peer
            count = service.defaultCount
        else:
            client = self.connection = Connection.of(peer, self.listener, hello)
            self.route, group = routing.choose(client)
            count = routing.counts[self.route]
            pool = service.pool if group is None else service.pools[group]
        count.connections += 1
        self.routeCount = count
        self.group = pool.name
        self.failover = Failover(pool, self.settings, service.reactor, service.clock, client, self)
        self.failover.start()

    def ended(self, termination):
        """
        Say how the connection ends, unless that was said already.
        """
        if self.termination is None:
            self.termination = termination

    def readConnectionLost(self):
        End.readConnectionLost(self)
        if self.hello is not None:
            # Nothing more will come: route on what was sent.
            self._route(None)

    def connectionLost(self, reason):
        self.done = True
        self._stopIdleTimer()
        if self.helloTimer is not None:
            self.helloTimer.cancel()
            self.helloTimer = None
        self.hello = None
        if self.handshakeTimer is not None or self.handshakeWhy is not None:
            self._handshakeFailed(reason)
        reset = peerReset(reason)
        self.ended(terminations.CLIENT_RESET if reset else terminations.CLIENT_CLOSED)
        if self.failover is not None:
            self.tried = self.failover.tried
        self.service.clientClosed(self)
        backend = self.unjoin(reason)
        if backend is not None:
            if reset:
                self.service.resetRelayed()
        elif self.failover is not None:
            self.failover.abandon()
        self.failover = None

    def _handshakeFailed(self, reason):
        timer, self.handshakeTimer = self.handshakeTimer, None
        if timer is not None and timer.active():
            timer.cancel()
        self.ended(terminations.TLS_FAILED)
        why = self.handshakeWhy or handshakeReason(reason, self.transport.getHandle())
        self.service.handshakeFailed(self, why)

    # What the failover attempt tells

    def backendConnected(self, backend, lease):
        """
        A host answered: relay both ways from now on.
        """
        if self.failover is not None:
            self.tried = self.failover.tried
        self.failover = None
        if lease.connectedAt is not None:
            self.connectTime = lease.connectedAt - lease.granted
        self.lease = lease
        self.host = lease.host
        self.spliceable = self.settings.splice and _splice.available()
        if self.host.proxy is not None:
            # The PROXY header goes first, before anything the client sent.
            transport = self.transport
            backend.transport.write(
                proxyheader.encode(self.host.proxy, transport.getPeer(), transport.getHost())
            )
        pending, size = self.pending, self.pendingSize
        self.pending, self.pendingSize = [], 0
        if size:
            self.host.bytesIn += size
            self.routeCount.bytesIn += size
            self.bytesIn += size
        join(self, backend, pending, size >= self.settings.bufferSize and not self.done)

    def gaveUp(self, termination, why):
        """
        No host could be reached: close the client.

        @param termination: a word of L{txlb.terminations}.
        @param why: a phrase for the log.
        """
        self.ended(termination)
        if self.failover is not None:
            self.tried = self.failover.tried
        self.failover = None
        self.done = True
        self.pending = []
        self.service.noteUnreachable(self, why)
        self.transport.loseConnection()

    # What the backend side tells

    def backendLost(self, backend, reason):
        """
        The host's connection ended: give the host back and close the
        client the same way (a reset stays a reset).
        """
        lease, self.lease = self.lease, None
        if lease is not None:
            lease.release()
        # The client's bytes may still arrive in this reactor iteration
        # (epoll reported both sockets): with no peer and done they are
        # dropped instead of reaching a released host.
        self.done = True
        reset = peerReset(reason)
        if backend.unjoin(reason) is not None:
            self.ended(terminations.BACKEND_RESET if reset else terminations.BACKEND_CLOSED)
            if reset:
                self.service.resetRelayed()

    # The zero-copy path

    def spliceWith(self, data, sink):
        """
        Try to move this connection to the kernel (L{txlb.pump.handOff});
        True when C{data} was delivered to C{sink}.
        """
        host = self.host
        count = self.routeCount

        def countIn(n):
            host.bytesIn += n
            count.bytesIn += n
            self.bytesIn += n
            self.active = True

        def countOut(n):
            host.bytesOut += n
            count.bytesOut += n
            self.bytesOut += n
            self.active = True

        service = self.service
        outcome = handOff(
            service.reactor, self, self.peer, data, sink, countIn, countOut, service.resetRelayed
        )
        if outcome is None:
            return False
        self.spliceable = False
        self.service.spliced += 1
        if outcome is True or outcome is False:
            return outcome
        self.splice = outcome
        return True

    # Idle timeout and aborting

    def _idleCheck(self):
        if self.active:
            self.active = False
            self.idleTimer = self.service.clock.callLater(self.settings.idleTimeout, self._idleCheck)
            return
        self.idleTimer = None
        self.abort(terminations.IDLE_TIMEOUT)

    def abort(self, termination):
        """
        Reset the client connection and the backend connection, if any.

        @param termination: why, a word of L{txlb.terminations}.
        """
        self.ended(termination)
        if self.splice is not None:
            self.splice.abort()
            return
        peer = self.peer
        self.transport.abortConnection()
        if peer is not None:
            peer.transport.abortConnection()

    def _stopIdleTimer(self):
        if self.idleTimer is not None and self.idleTimer.active():
            self.idleTimer.cancel()
        self.idleTimer = None


class RelayFactory(ServerFactory):
    """
    Builds a L{ClientSide} for each connection a service's listener accepts.

    @ivar listenerService: the L{txlb.listener.Listener} this factory
        serves (whose address the access log names), or None.
    @ivar listenerAddress: that listener's bound address once the access
        log has asked for it, else None.
    """

    noisy = False
    listenerService = None
    listenerAddress = None
    #: The service's L{txlb.lean.LeanRelay}, or None without the lean path.
    lean = None

    def __init__(self, service, listener=None):
        """
        @param listener: the listen endpoint string whose connections this
            builds protocols for (what a route's C{listener} matches).
        """
        self.service = service
        self.listener = listener

    def buildProtocol(self, addr):
        protocol = ClientSide(self.service)
        protocol.factory = self
        protocol.listener = self.listener
        return protocol


__all__ = ["ClientSide", "RelayFactory", "RelaySettings"]
