"""
A listener: one endpoint a service accepts clients on.
"""

from twisted.application.service import Service
from twisted.logger import Logger, formatEvent

from txlb._ratelimit import RateLimiter, sinceLast
from txlb._twisted import limitAccepts, observeAcceptErrors, pauseAccepting, resumeAccepting, setBacklog
from txlb.address import formatAddress, listenEndpoint
from txlb.errors import ConfigError, StartupError, quietExit
from txlb.proxyaccept import ProxyHeaderFactory

# Twisted listens with a backlog of 50: a burst of connections overflows it
# and each dropped SYN costs its client a second. The kernel caps this at
# net.core.somaxconn; an endpoint string's own backlog= wins.
DEFAULT_BACKLOG = 1024

#: A listener written C{haproxy:ENDPOINT} reads a PROXY protocol header
#: first on each connection (L{txlb.proxyaccept}).
PROXY_PREFIX = "haproxy:"


def _proxyHeaderFactory(description, factory, proxyHeader):
    """
    C{factory}, wrapped to read a PROXY protocol header first when the
    description asks for one.
    """
    if proxyHeader is None:
        raise ConfigError(f"listen endpoint {description!r}: this listener cannot read PROXY headers")
    return ProxyHeaderFactory(factory, proxyHeader)


class _AcceptErrors:
    """
    The log observer of a listening port: Twisted logs every failed
    C{accept} (EMFILE and its recovery, one line per refused client), so
    under descriptor exhaustion it would log thousands of lines a second.
    This lets one line per second through and counts the rest.
    """

    log = Logger()

    def __init__(self, listener, clock):
        self.listener = listener
        self.limiter = RateLimiter(clock)

    def __call__(self, event):
        suppressed = self.limiter.allow()
        if suppressed is None:
            return
        self.log.warn(
            "service {service} on {address}: {problem}{more}",
            service=self.listener.serviceName,
            address=self.listener.address,
            problem=formatEvent(event),
            more=sinceLast(suppressed),
        )


class Listener(Service):
    """
    Listens on one server endpoint string while running and logs, once bound,
    the service's name and the real address (also when the port was 0).

    @ivar port: the L{IListeningPort} while listening, else None.
    @ivar failure: why listening failed (a sentence), or None.
    @ivar proxyHeader: True when each connection starts with a PROXY
        protocol header (the description starts with C{haproxy:}).
    @ivar holders: the L{txlb.maxconn.ConnectionCap}s holding this
        listener: while there is one, it accepts nothing.
    @ivar caps: every L{txlb.maxconn.ConnectionCap} this listener's
        connections count against.
    """

    log = Logger()

    def __init__(
        self, serviceName, description, factory, reactor, onFailure=None, bind=None, proxyHeader=None
    ):
        """
        @param proxyHeader: for a C{haproxy:} listener, the
            L{txlb.proxy.ProxyService} that counts what the header reader
            refuses and says how long a client has to send its header
            (C{proxyHeaderTimeout}).
        @param bind: None to listen on the endpoint, or a callable given
            this listener that returns a Deferred firing with the listening
            port (with C{--workers}: a port every worker process shares).
        @param onFailure: called with the sentence when the endpoint cannot be
            bound. Without one, a failure while twistd starts up is logged
            once and exits with a non-zero status (leaving no pid file), and
            a later one stops the reactor, since a balancer that cannot
            listen is of no use.
        """
        self.serviceName = serviceName
        self.description = description
        self.reactor = reactor
        self.proxyHeader = description.startswith(PROXY_PREFIX) if isinstance(description, str) else False
        if self.proxyHeader:
            # Listen on the endpoint inside, reading the header with the
            # wrapper of txlb.proxyaccept: also what --workers shares.
            self.endpoint = listenEndpoint(description[len(PROXY_PREFIX):], reactor)
            factory = _proxyHeaderFactory(description, factory, proxyHeader)
        else:
            self.endpoint = listenEndpoint(description, reactor)
        self.factory = factory
        if "backlog=" not in description:
            setBacklog(self.endpoint, DEFAULT_BACKLOG)
        self.onFailure = onFailure
        self.bind = bind
        self.port = None
        self.failure = None
        self._listening = None
        self.holders = set()
        self.caps = []

    def countedBy(self, cap):
        """
        The connections this listener accepts count against C{cap} (a
        L{txlb.maxconn.ConnectionCap}): no accept batch takes more than
        its room.
        """
        self.caps.append(cap)

    def headroom(self):
        """
        How many more connections the caps of this listener allow now, or
        None without a limit.
        """
        rooms = [room for room in (cap.room() for cap in self.caps) if room is not None]
        return min(rooms) if rooms else None

    def hold(self, holder):
        """
        Stop accepting until every holder has released this listener
        (new clients wait in the kernel's listen backlog).
        """
        if not self.holders and self.port is not None:
            pauseAccepting(self.port)
        self.holders.add(holder)

    def release(self, holder):
        """
        C{holder} lets go: accept again when no other holds on.
        """
        self.holders.discard(holder)
        if not self.holders and self.port is not None:
            resumeAccepting(self.port)

    @property
    def address(self):
        """
        The bound address as a person writes it, or None when not bound.
        """
        if self.port is None:
            return None
        return formatAddress(self.port.getHost())

    def startService(self):
        Service.startService(self)
        outcome = []
        listening = self._listen()
        listening.addCallbacks(self._bound, self._failed, errbackArgs=(outcome,))
        if outcome and not self.reactor.running and self.onFailure is None:
            # Binding failed while twistd is starting up: exit with a
            # non-zero status; the sentence is logged already. An Exception
            # (not SystemExit) lets twistd remove its pid file.
            raise quietExit(StartupError(outcome[0]))
        if not listening.called:
            self._listening = listening

    def _listen(self):
        if self.bind is not None:
            return self.bind(self)
        return self.endpoint.listen(self.factory)

    def _bound(self, port):
        self._listening = None
        self.port = port
        observeAcceptErrors(port, _AcceptErrors(self, self.reactor))
        if self.holders:
            pauseAccepting(port)
        if self.caps:
            # Also without a limit now: a reconfiguration may set one.
            limitAccepts(port, self.headroom)
        # Said once the reactor runs, so that the line means "serving".
        self.reactor.callWhenRunning(self._announce)

    def _announce(self):
        if self.port is None:
            return
        self.log.info(
            "service {service} listening on {address} ({endpoint})",
            service=self.serviceName,
            address=self.address,
            endpoint=self.description,
        )

    def _failed(self, reason, outcome):
        self._listening = None
        why = reason.getErrorMessage()
        if "Address already in use" in why:
            why = (
                "another process listens there (to take over from a running txlb, "
                "start both with --handover PATH)"
            )
        self.failure = f"service {self.serviceName} cannot listen on {self.description}: {why}"
        self.log.critical("{message}", message=self.failure)
        outcome.append(self.failure)
        if self.onFailure is not None:
            self.onFailure(self.failure)
        elif self.reactor.running:
            self.reactor.stop()

    def stopService(self):
        Service.stopService(self)
        if self._listening is not None:
            self._listening.cancel()
        port, self.port = self.port, None
        if port is not None:
            return port.stopListening()
