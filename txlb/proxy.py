"""
A proxy service: listeners, the groups behind them, and which group serves.
"""

from collections import OrderedDict

from twisted.application.service import MultiService
from twisted.logger import Logger
from twisted.protocols.tls import TLSMemoryBIOFactory

from txlb._ratelimit import RateLimiter, sinceLast
from txlb._signals import onHangup
from txlb._twisted import sslServerContext
from txlb.access import DENIED, AccessList
from txlb.address import formatAddress
from txlb.errors import ConfigError
from txlb.lean import LeanRelay, carriesOn
from txlb.drain import Drain
from txlb.listener import Listener
from txlb.maxconn import ConnectionCap
from txlb.relay import RelayFactory
from txlb.relaysettings import RelaySettings
from txlb.routing import RouteCount
from txlb.tls import refuseALPN

DEFAULT_DRAIN_TIMEOUT = 10.0
#: Seconds a client of a C{haproxy:} listener has to send its PROXY header.
DEFAULT_HEADER_TIMEOUT = 3.0


class ProxyService(MultiService):
    """
    The runtime form of a service: its listeners are its children; its
    groups are L{Pool}s of which one, the enabled group, gets new clients
    (pythondirector's blue/green C{enableGroup}).

    @ivar settings: the L{RelaySettings} every connection reads.
    @ivar accepted: clients accepted, ever.
    @ivar unreachable: clients closed because no host could be reached.
    @ivar resets: connections one side reset, relayed as a reset to the
        other side, ever.
    @ivar leanCarried: connections the lean path carried, ever.
    @ivar clients: the L{ClientSide}s connected now.
    @ivar drainTimeout: seconds open connections may run on after the
        service stops accepting; what is left then is aborted.
    @ivar access: the L{AccessList} clients are checked against at accept.
    @ivar limits: the L{txlb.clientlimits.ClientTable} of per-client
        limits, or None.
    @ivar caps: the L{ConnectionCap}s every connection counts against:
        the service's own C{maxconn}, and the process's when there is one.
    @ivar refusals: clients closed before any backend work, ever, by
        reason (C{denied}, C{max-client-conns}, C{max-client-rate},
        C{proxy-header}, C{proxy-header-timeout}).
    @ivar routing: the L{txlb.routing.Routing} choosing a group per
        connection, or None: every connection goes to the enabled group
        (and is counted in C{defaultCount}).
    @ivar accessLog: the L{txlb.accesslog.AccessLogService} each ended
        client is recorded in, or None.
    """

    log = Logger()

    def __init__(
        self,
        name,
        reactor,
        clock,
        settings=RelaySettings(),
        drainTimeout=DEFAULT_DRAIN_TIMEOUT,
        bind=None,
        access=AccessList(),
        limits=None,
        maxconn=None,
        processCap=None,
        proxyHeaderTimeout=DEFAULT_HEADER_TIMEOUT,
        routing=None,
        tls=None,
    ):
        """
        @param bind: what binds this service's listeners (see
            L{Listener}); None binds each on its own endpoint.
        @param tls: the service's L{txlb.tls.ServerContexts}: clients speak
            TLS on every listener that is not an C{ssl:} endpoint; or None.
        @param maxconn: the most client connections this service holds at
            once, or None.
        @param processCap: the process's L{ConnectionCap}, or None.
        @param proxyHeaderTimeout: seconds a client of a C{haproxy:}
            listener has to send its PROXY header.
        """
        MultiService.__init__(self)
        self.setName(name)
        self.reactor = reactor
        self.clock = clock
        self.settings = settings
        self.bind = bind
        self.pools = OrderedDict()
        self.enabledGroup = None
        self.factory = RelayFactory(self)
        # Routing and TLS termination need what Twisted's transports carry
        # (a ClientHello, a TLS session): such a service keeps them.
        self.lean = (
            LeanRelay(self)
            if settings.lean and routing is None and tls is None and carriesOn(reactor)
            else None
        )
        self.factory.lean = self.lean
        self.routing = routing
        if routing is not None:
            # A router may name any group the service has now.
            routing.groups = self.pools
        self.defaultCount = RouteCount()
        self.accepted = 0
        self.spliced = 0
        self.unreachable = 0
        self.resets = 0
        self.leanCarried = 0
        self._unreachableLog = RateLimiter(self.clock)
        self.tls = tls
        self.tlsFailed = 0
        self._tlsLog = RateLimiter(self.clock)
        self._stopHangup = None
        self.drainTimeout = drainTimeout
        self.clients = set()
        self._drain = None
        self.accessLog = None
        self.access = access
        self.limits = limits
        self._checking = not access.empty or limits is not None
        self.cap = ConnectionCap(f"service {name}", clock, maxconn)
        self.caps = (self.cap,) if processCap is None else (self.cap, processCap)
        self.proxyHeaderTimeout = proxyHeaderTimeout
        self.refusals = {}
        self._refusedLog = RateLimiter(self.clock)

    @property
    def pool(self):
        """
        The enabled group's L{Pool}.
        """
        return self.pools[self.enabledGroup]

    @property
    def listeners(self):
        """
        The L{Listener}s of this service.
        """
        return [s for s in self if isinstance(s, Listener)]

    def addListener(self, description, onFailure=None):
        """
        Listen on one more endpoint (bound at once when running).

        @raise ConfigError: for a bad endpoint string.
        """
        factory = relay = RelayFactory(self, description)
        factory.lean = self.lean
        bind = self.bind
        if bind is None and self.lean is not None:
            bind = self.lean.bind
        if self.tls is not None and not description.startswith(("ssl:", "ssl6:")):
            factory = TLSMemoryBIOFactory(self.tls, False, factory)
            factory.noisy = False
        listener = Listener(
            self.name,
            description,
            factory,
            self.reactor,
            onFailure,
            bind=bind,
            proxyHeader=self,
        )
        relay.listenerService = listener
        context = sslServerContext(listener.endpoint)
        if context is not None:
            refuseALPN(context)
        listener.setServiceParent(self)
        for cap in self.caps:
            cap.addListener(listener)
        return listener

    def addPool(self, pool):
        """
        Add a group; the first one added is enabled.
        """
        if pool.name in self.pools:
            raise ConfigError(f"service {self.name!r} already has a group named {pool.name!r}")
        self.pools[pool.name] = pool
        if self.enabledGroup is None:
            self.enabledGroup = pool.name

    def getPool(self, name):
        """
        @raise ConfigError: for an unknown group name.
        """
        try:
            return self.pools[name]
        except KeyError:
            raise ConfigError(f"service {self.name!r} has no group named {name!r}") from None

    def enableGroup(self, name):
        """
        Send new clients to group C{name}; open connections stay where they are.
        """
        self.getPool(name)
        if name != self.enabledGroup:
            self.log.info(
                "service {service}: group {group} enabled (was {old})",
                service=self.name,
                group=name,
                old=self.enabledGroup,
            )
        self.enabledGroup = name

    def noteUnreachable(self, client, why):
        """
        A client is being closed because no host could be reached: count
        it and log one line (one per burst when many arrive at once).
        """
        self.unreachable += 1
        suppressed = self._unreachableLog.allow()
        if suppressed is None:
            return
        more = sinceLast(suppressed)
        self.log.warn(
            "service {service}: closing client {client}: {why}{more}",
            service=self.name,
            client=formatAddress(client.transport.getPeer()),
            why=why,
            more=more,
        )

    def handshakeFailed(self, client, why):
        """
        A client's TLS handshake failed: count it and log one line (one per
        burst when many arrive at once).
        """
        self.tlsFailed += 1
        suppressed = self._tlsLog.allow()
        if suppressed is None:
            return
        self.log.warn(
            "service {service}: TLS handshake with client {client} failed: {why}{more}",
            service=self.name,
            client=formatAddress(client.transport.getPeer()),
            why=why,
            more=sinceLast(suppressed),
        )

    def reloadCertificates(self):
        """
        Re-read the service's certificates (new handshakes use them; open
        connections keep theirs); None when done or when the service has
        no L{ServerTLS}, else the sentence saying why the old ones stay.
        """
        if self.tls is None:
            return None
        return self.tls.reload()

    def resetRelayed(self):
        """
        One side of a connection reset it; the other side was reset too.
        """
        self.resets += 1

    # Access control and limits

    def admit(self, client):
        """
        Check a new C{client} (a L{ClientSide}) on its real address before
        any backend work: None when it may go on, else the reason word it
        was refused for (counted, and logged one line a second at most).
        """
        if not self._checking:
            return None
        peer = client.transport.getPeer()
        host = getattr(peer, "host", None)
        if not self.access.permits(host):
            self.noteRefused(DENIED, peer, "denied by the access list")
            return DENIED
        limits = self.limits
        if limits is not None and host is not None:
            reason = limits.admit(host)
            if reason is not None:
                self.noteRefused(reason, peer, f"over its {reason} limit")
                return reason
            client.clientKey = (limits, host)
        return None

    def updateEdge(self, model):
        """
        Take the access list, per-client limits, C{maxconn} and PROXY
        header timeout of C{model} (a service built aside from a changed
        description: C{setService}, C{applyConfig}, C{SIGHUP}). Connections
        open now keep counting where they were counted.
        """
        self.access = model.access
        if model.limits is None or self.limits is None:
            self.limits = model.limits
        else:
            self.limits.setLimits(model.limits.maxConns, model.limits.maxRate)
        self._checking = not self.access.empty or self.limits is not None
        self.cap.setLimit(model.cap.limit)
        self.proxyHeaderTimeout = model.proxyHeaderTimeout

    def noteRefused(self, reason, peer, why):
        """
        A client at C{peer} was closed before any backend work, for
        C{reason} (a word counted in L{refusals}); C{why} is a phrase for
        the log.
        """
        self.refusals[reason] = self.refusals.get(reason, 0) + 1
        suppressed = self._refusedLog.allow()
        if suppressed is None:
            return
        self.log.info(
            "service {service}: refused client {client}: {why}{more}",
            service=self.name,
            client=formatAddress(peer),
            reason=reason,
            why=why,
            more=sinceLast(suppressed),
        )

    def connectionOpened(self):
        """
        A client connection started: count it against C{maxconn}.
        """
        for cap in self.caps:
            cap.opened()

    def connectionClosed(self):
        """
        A connection counted by L{connectionOpened} ended.
        """
        for cap in self.caps:
            cap.closed()

    # Clients and stopping

    def clientOpened(self, client, lean=False):
        """
        A listener accepted C{client} (a L{ClientSide}, or a
        L{txlb.lean.Pair} when C{lean}).
        """
        self.accepted += 1
        if lean:
            self.leanCarried += 1
        self.clients.add(client)
        self.connectionOpened()

    def clientClosed(self, client):
        """
        A client connection ended: it is recorded in the access log; the
        last one ends a drain.
        """
        self.clients.discard(client)
        accessLog = self.accessLog
        if accessLog is not None:
            accessLog.record(client)
        self.connectionClosed()
        if client.clientKey is not None:
            table, key = client.clientKey
            table.release(key)
        if self._drain is not None:
            self._drain.clientGone()

    def startService(self):
        if self.lean is not None:
            self.lean.start()
        MultiService.startService(self)
        if self.tls is not None:
            self._stopHangup = onHangup(self.reactor, self.reloadCertificates)

    def stopService(self):
        """
        Stop accepting (the listeners stop first), then let open connections
        finish for up to C{drainTimeout} seconds and abort what is left.
        """
        if self._stopHangup is not None:
            self._stopHangup()
            self._stopHangup = None
        stopped = MultiService.stopService(self)
        stopped.addCallback(self._startDrain)
        if self.lean is not None:
            stopped.addBoth(self._leanStopped)
        return stopped

    def _startDrain(self, _):
        self._drain = Drain(self.name, self.clients, self.clock, self.drainTimeout)
        return self._drain.start()

    def _leanStopped(self, result):
        self.lean.stop()
        return result
