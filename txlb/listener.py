"""
A listener: one endpoint a service accepts clients on.
"""

from twisted.application.service import Service
from twisted.logger import Logger, formatEvent

from txlb._ratelimit import RateLimiter, sinceLast
from txlb._twisted import observeAcceptErrors, setBacklog
from txlb.address import formatAddress, listenEndpoint
from txlb.errors import StartupError, quietExit

# Twisted listens with a backlog of 50: a burst of connections overflows it
# and each dropped SYN costs its client a second. The kernel caps this at
# net.core.somaxconn; an endpoint string's own backlog= wins.
DEFAULT_BACKLOG = 1024


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
    """

    log = Logger()

    def __init__(self, serviceName, description, factory, reactor, onFailure=None, bind=None):
        """
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
        self.factory = factory
        self.reactor = reactor
        self.endpoint = listenEndpoint(description, reactor)
        if "backlog=" not in description:
            setBacklog(self.endpoint, DEFAULT_BACKLOG)
        self.onFailure = onFailure
        self.bind = bind
        self.port = None
        self.failure = None
        self._listening = None

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
