"""
A proxy service: listeners, the groups behind them, and which group serves.
"""

from collections import OrderedDict

from twisted.application.service import MultiService
from twisted.internet.defer import Deferred
from twisted.logger import Logger

from txlb import terminations
from txlb._ratelimit import RateLimiter, sinceLast
from txlb.address import formatAddress
from txlb.errors import ConfigError
from txlb.listener import Listener
from txlb.relay import RelayFactory, RelaySettings
from txlb.routing import RouteCount

DEFAULT_DRAIN_TIMEOUT = 10.0


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
    @ivar clients: the L{ClientSide}s connected now.
    @ivar drainTimeout: seconds open connections may run on after the
        service stops accepting; what is left then is aborted.
    @ivar routing: the L{txlb.routing.Routing} choosing a group per
        connection, or None: every connection goes to the enabled group
        (and is counted in C{defaultCount}).
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
        routing=None,
    ):
        """
        @param bind: what binds this service's listeners (see
            L{Listener}); None binds each on its own endpoint.
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
        self.routing = routing
        if routing is not None:
            # A router may name any group the service has now.
            routing.groups = self.pools
        self.defaultCount = RouteCount()
        self.accepted = 0
        self.spliced = 0
        self.unreachable = 0
        self.resets = 0
        self._unreachableLog = RateLimiter(self.clock)
        self.drainTimeout = drainTimeout
        self.clients = set()
        self._drained = None
        self._drainTimer = None

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
        factory = RelayFactory(self, description)
        listener = Listener(self.name, description, factory, self.reactor, onFailure, bind=self.bind)
        listener.setServiceParent(self)
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

    def resetRelayed(self):
        """
        One side of a connection reset it; the other side was reset too.
        """
        self.resets += 1

    # Clients and stopping

    def clientOpened(self, client):
        """
        A listener accepted C{client} (a L{ClientSide}).
        """
        self.accepted += 1
        self.clients.add(client)

    def clientClosed(self, client):
        """
        A client connection ended; the last one ends a drain.
        """
        self.clients.discard(client)
        if self._drained is not None and not self.clients:
            self._drainFinished()

    def stopService(self):
        """
        Stop accepting (the listeners stop first), then let open connections
        finish for up to C{drainTimeout} seconds and abort what is left.
        """
        stopped = MultiService.stopService(self)
        stopped.addCallback(lambda _: self._drain())
        return stopped

    def _drain(self):
        if not self.clients:
            return None
        self.log.info(
            "service {service}: stopped accepting; draining {count} open "
            "connections for up to {timeout} s",
            service=self.name,
            count=len(self.clients),
            timeout=self.drainTimeout,
        )
        self._drained = Deferred()
        self._drainTimer = self.clock.callLater(self.drainTimeout, self._drainTimedOut)
        return self._drained

    def _drainTimedOut(self):
        self._drainTimer = None
        self.log.warn(
            "service {service}: drain timeout; aborting {count} open connections",
            service=self.name,
            count=len(self.clients),
        )
        for client in list(self.clients):
            client.abort(terminations.SHUTDOWN)
        self._drainFinished()

    def _drainFinished(self):
        drained, self._drained = self._drained, None
        if self._drainTimer is not None:
            self._drainTimer.cancel()
            self._drainTimer = None
        if not self.clients:
            self.log.info("service {service}: drained", service=self.name)
        drained.callback(None)
