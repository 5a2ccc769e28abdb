"""
The failover attempt: finding, for one client, a host that answers.

It asks the pool for a host (given the hosts this client already tried),
waits in the pool's queue when the pool says so, connects with a timeout,
and on a failure gives the host back and asks again, up to the service's
number of tries. It knows nothing of bytes: when a host answers, it hands
the connected backend side and its lease to the relay.
"""

from twisted.internet.error import ConnectionRefusedError, TimeoutError
from twisted.internet.protocol import ClientFactory
from twisted.python.failure import Failure

from txlb.asking import AsksPool
from txlb.pump import BackendSide


def failureReason(reason):
    """
    One short phrase for why a connection attempt failed.
    """
    if reason.check(ConnectionRefusedError):
        return "connection refused"
    if reason.check(TimeoutError):
        return "connect timed out"
    message = reason.getErrorMessage()
    return message.strip().rstrip(".") or reason.type.__name__


class _Attempt(ClientFactory):
    """
    One connection attempt to one host.
    """

    noisy = False

    def __init__(self, failover, lease):
        self.failover = failover
        self.lease = lease
        self.connector = None
        self.timer = None
        self.abandoned = False
        self.index = 0

    def abandon(self):
        """
        Stop the attempt; nothing it reports afterwards is heard.
        """
        self.abandoned = True
        if self.timer is not None and self.timer.active():
            self.timer.cancel()
        if self.connector is not None:
            self.connector.stopConnecting()

    def buildProtocol(self, addr):
        if self.abandoned:
            return None
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        failover = self.failover
        return BackendSide(failover.relay, self.lease.host, failover.connected)

    def clientConnectionFailed(self, connector, reason):
        if not self.abandoned:
            if self.timer is not None and self.timer.active():
                self.timer.cancel()
            self.failover.attemptFailed(self, reason)

    def timedOut(self):
        self.timer = None
        self.abandon()
        self.failover.attemptFailed(self, Failure(TimeoutError("connect timed out")))


class Failover(AsksPool):
    """
    Finds a host that answers for one client connection.

    @ivar relay: the client's side: told C{backendConnected(backend, lease)}
        once a host answers, or C{gaveUp(termination, why)} when none does
        (a word of L{txlb.terminations} and a phrase for the log).
    @ivar tried: the hosts tried so far, in order.
    """

    __slots__ = ("pool", "settings", "reactor", "clock", "client", "relay", "tried", "lease", "attempt", "waiting")

    def __init__(self, pool, settings, reactor, clock, client, relay):
        """
        @param pool: the L{IPool} to ask.
        @param settings: the service's L{txlb.relay.RelaySettings}.
        @param client: the client's address.
        """
        self.pool = pool
        self.settings = settings
        self.reactor = reactor
        self.clock = clock
        self.client = client
        self.relay = relay
        self.tried = ()
        self.lease = None
        self.attempt = None
        self.waiting = None

    def start(self):
        """
        Ask for the first host.
        """
        self._ask(self.pool, self.client)

    def _giveUp(self, termination, why):
        self.relay.gaveUp(termination, why)

    def _connect(self, lease, index=0):
        self.lease = lease
        host = lease.host
        if not index:
            self.tried = self.tried + (host,)
        attempt = self.attempt = _Attempt(self, lease)
        attempt.index = index
        attempt.timer = self.clock.callLater(self.settings.connectTimeout, attempt.timedOut)
        if index:
            attempt.connector = host.connector.connect(self.reactor, attempt, index)
        else:
            attempt.connector = host.connector.connect(self.reactor, attempt)

    def connected(self, backend):
        """
        The backend side of the current attempt connected.
        """
        lease, self.lease = self.lease, None
        self.attempt = None
        lease.connected()
        self.relay.backendConnected(backend, lease)

    def attemptFailed(self, attempt, reason):
        """
        C{attempt} failed: try the host's next address if it has one
        (L{txlb.hostnames.ResolvingConnector}), else give the host back,
        count the failure and try the next host.
        """
        if attempt is not self.attempt:
            return
        self.attempt = None
        if attempt.index + 1 < getattr(self.lease.host.connector, "addressCount", 1):
            # A host named by a name with several addresses: the next
            # address before the next host.
            self._connect(self.lease, attempt.index + 1)
            return
        lease, self.lease = self.lease, None
        lease.failed(failureReason(reason))
        self.start()

    def abandon(self):
        """
        The client went away: stop connecting, give the host back or leave
        the queue.
        """
        if self.attempt is not None:
            self.attempt.abandon()
            self.attempt = None
        if self.lease is not None:
            lease, self.lease = self.lease, None
            lease.release()
        if self.waiting is not None:
            waiting, self.waiting = self.waiting, None
            waiting.cancel()
