"""
A pool: the hosts of one group, their state and counters, its schedulers and
its wait queue.

The pool is the one place host state changes and the one place a client is
given a host, queued or refused (L{IPool}): the relay asks for a host and
gets a L{Lease} (the host already counted as opened), a L{Waiting} place in
the queue, or a L{Refusal}. The pool tells its schedulers of each change
through their hooks (one-way: schedulers never reach into the pool) and
tells its observers (health checks, passive ejection, the admin) what
happened.
"""

from collections import OrderedDict, deque

from twisted.logger import Logger
from zope.interface import implementer

from txlb.backend import DOWN, DRAINING, MAINT, STATES, UP, LastFailure, StateChange
from txlb.errors import ConfigError, NoHostAvailable
from txlb.grants import (
    NO_HOST,
    NO_OTHER_HOST,
    QUEUE_FULL,
    QUEUE_TIMEOUT,
    REFUSALS,
    Lease,
    Waiting,
)
from txlb.histogram import SESSION_BUCKETS, Histogram
from txlb.interfaces import IPool

DEFAULT_QUEUE_SIZE = 256
DEFAULT_QUEUE_TIMEOUT = 10.0


def _plain(host):
    # What the lean path (txlb.lean) can connect to: TCP to an IP address
    # (a TLS connector is not plain), with no PROXY header to send.
    return getattr(host.connector, "plain", False) and getattr(host, "proxy", None) is None


@implementer(IPool)
class Pool:
    """
    The runtime form of a group.

    @ivar name: the group's name.
    @ivar hosts: the hosts by name, in the order they were added.
    @ivar schedulerSpec: the scheduler as the user named it.
    @ivar queued: clients that waited in the queue, ever (int).
    @ivar refused: clients refused because nothing was available (int).
    @ivar refusals: those refusals by kind (L{NO_HOST}, ...), a dict.
    @ivar plainTCP: True while every host is plain TCP to an IP address
        (the lean path, L{txlb.lean}, can carry the group's clients).
    @ivar allDown: C{refuse} or C{panic}: what L{pick} does when no host
        is up.
    """

    log = Logger()
    allDown = "refuse"
    _panicTurn = -1

    def __init__(
        self,
        name,
        schedulerFactory,
        schedulerSpec,
        clock,
        queueSize=DEFAULT_QUEUE_SIZE,
        queueTimeout=DEFAULT_QUEUE_TIMEOUT,
    ):
        """
        @param schedulerFactory: a no-argument callable that makes a new
            L{IScheduler}; the pool makes one for its primaries and one for
            its backups.
        @param clock: an L{IReactorTime}.
        """
        self.name = name
        self.hosts = OrderedDict()
        self.clock = clock
        self.queueSize = queueSize
        self.queueTimeout = queueTimeout
        self.queued = 0
        self.refused = 0
        self.plainTCP = True
        self._notPlain = 0
        self.refusals = dict.fromkeys(REFUSALS, 0)
        self.connectTimes = Histogram()
        self.sessionTimes = Histogram(SESSION_BUCKETS)
        self._queue = deque()
        self._observers = []
        self.setScheduler(schedulerFactory, schedulerSpec)

    # Schedulers and observers

    def setScheduler(self, schedulerFactory, schedulerSpec):
        """
        Replace the scheduler; open connections are not disturbed.
        """
        self.schedulerSpec = schedulerSpec
        self._primary = schedulerFactory()
        self._backup = schedulerFactory()
        hosts = list(self.hosts.values())
        self._primary.setHosts([h for h in hosts if not h.backup])
        self._backup.setHosts([h for h in hosts if h.backup])

    @property
    def scheduler(self):
        """
        The scheduler choosing among the primary hosts.
        """
        return self._primary

    def addObserver(self, observer):
        """
        Tell C{observer} (an L{IPoolObserver}) what happens from now on.
        """
        self._observers.append(observer)

    def removeObserver(self, observer):
        self._observers.remove(observer)

    def _schedulerOf(self, host):
        return self._backup if host.backup else self._primary

    # Membership

    def addHost(self, host):
        """
        Add a L{Backend}; its name must be new in this pool.

        @raise ConfigError: when the name is taken.
        """
        if host.name in self.hosts:
            raise ConfigError(f"group {self.name!r} already has a host named {host.name!r}")
        self.hosts[host.name] = host
        if not _plain(host):
            self._notPlain += 1
            self.plainTCP = False
        self._schedulerOf(host).hostAdded(host)
        self._serveQueue()

    def removeHost(self, name):
        """
        Take a host out; its open connections run to their end.

        @raise ConfigError: for an unknown name.
        """
        host = self.getHost(name)
        if host.state == UP:
            self._changeState(host, DRAINING, "removed")
            self._schedulerOf(host).hostDown(host)
        del self.hosts[name]
        if not _plain(host):
            self._notPlain -= 1
            self.plainTCP = not self._notPlain
        self._schedulerOf(host).hostRemoved(host)
        return host

    def getHost(self, name):
        """
        @raise ConfigError: for an unknown name.
        """
        try:
            return self.hosts[name]
        except KeyError:
            raise ConfigError(f"group {self.name!r} has no host named {name!r}") from None

    def setWeight(self, name, weight):
        """
        Change a host's configured weight (and its effective weight).
        """
        host = self.getHost(name)
        host.weight = weight
        self.setEffectiveWeight(host, weight)

    def setEffectiveWeight(self, host, weight):
        """
        Change the weight schedulers use for C{host}, such as during slow start.
        """
        if host.effectiveWeight != weight:
            host.effectiveWeight = weight
            self._schedulerOf(host).weightChanged(host)
            if weight > 0:
                self._serveQueue()

    # State

    def setState(self, host, state, reason):
        """
        Move C{host} to C{state} ('up', 'down', 'draining', 'maint'),
        recording why; does nothing when it is there already.
        """
        if state not in STATES:
            raise ConfigError(f"state {state!r} is not one of {', '.join(STATES)}")
        if host.state == state:
            return
        wasUp = host.state == UP
        self._changeState(host, state, reason)
        if state == UP:
            self._schedulerOf(host).hostUp(host)
            self._serveQueue()
        elif wasUp:
            self._schedulerOf(host).hostDown(host)

    def _changeState(self, host, state, reason):
        change = StateChange(self.clock.seconds(), host.state, state, reason)
        host.state = state
        host.history.append(change)
        self.log.info(
            "group {group}: host {host} ({address}) {old} -> {new}: {reason}",
            group=self.name,
            host=host.name,
            address=host.address,
            old=change.old,
            new=state,
            reason=reason,
        )
        for observer in list(self._observers):
            observer.stateChanged(self, host, change)

    # Granting

    def acquire(self, client, tried, granted):
        """
        A host for one client connection: a L{Lease} (counted as opened), a
        L{Refusal} (counted), or, when every host that is up is full and
        the client has tried none yet, a L{Waiting} place in the queue that
        later calls C{granted} with a L{Lease} or a L{Refusal}.
        """
        try:
            host = self.pick(client, tried)
        except NoHostAvailable:
            if tried:
                return self._refuse(NO_OTHER_HOST, count=False)
            if not self.anyUp():
                return self._refuse(NO_HOST)
            if len(self._queue) >= self.queueSize:
                return self._refuse(QUEUE_FULL)
            waiting = Waiting(self, client, tried, granted)
            waiting.timer = self.clock.callLater(self.queueTimeout, self._timedOut, waiting)
            self._queue.append(waiting)
            self.queued += 1
            return waiting
        return self._grant(host)

    def _grant(self, host):
        host.open += 1
        host.total += 1
        self._schedulerOf(host).connectionOpened(host)
        return Lease(self, host, self.clock.seconds())

    def _refuse(self, kind, count=True):
        if count:
            self.refused += 1
            self.refusals[kind] += 1
        return REFUSALS[kind]

    def leaseConnected(self, lease):
        """
        The connection C{lease} was granted for is established (L{Lease}
        calls this): its connect time is counted.
        """
        now = lease.connectedAt = self.clock.seconds()
        self.connectTimes.observe(now - lease.granted)
        self.connectSucceeded(lease.host)

    def giveBack(self, lease, host):
        """
        C{lease} ended: C{host} has one connection less (L{Lease} calls this);
        a session that was established is counted with its length.
        """
        now = self.clock.seconds()
        host.open -= 1
        host.lastClosed = now
        if lease.connectedAt is not None:
            self.sessionTimes.observe(now - lease.connectedAt)
        self._schedulerOf(host).connectionClosed(host)
        if self._queue:
            self._serveQueue()

    # Choosing

    def pick(self, client, tried=()):
        """
        Choose a host: a primary when one is available, else a backup.

        @raise NoHostAvailable: when neither is available.
        """
        try:
            return self._primary.pick(client, tried)
        except NoHostAvailable:
            try:
                return self._backup.pick(client, tried)
            except NoHostAvailable:
                if self.allDown != "panic" or self.anyUp():
                    raise
                return self._panicPick(tried)

    def _panicPick(self, tried):
        """
        With the C{panic} policy and no host up: the down hosts in turn,
        as Envoy's panic mode does (maintenance and draining hosts stay out).
        """
        down = [h for h in self.hosts.values() if h.state == DOWN and h.weight > 0]
        fresh = [h for h in down if h not in tried]
        if not fresh:
            raise NoHostAvailable("no host is available")
        self._panicTurn += 1
        return fresh[self._panicTurn % len(fresh)]

    def anyUp(self):
        """
        True when some host is up, though perhaps full.
        """
        for host in self.hosts.values():
            if host.state == UP:
                return True
        return False

    # Outcomes

    def connectFailed(self, host, reason):
        """
        A connection attempt to C{host} failed: count it and tell observers.
        The host stays in circulation unless an observer decides otherwise.
        """
        host.failed += 1
        host.consecutiveFailures += 1
        host.lastFailure = LastFailure(self.clock.seconds(), reason)
        for observer in list(self._observers):
            observer.connectFailed(self, host, reason)

    def connectSucceeded(self, host):
        """
        A connection attempt to C{host} succeeded.
        """
        if host.consecutiveFailures:
            host.consecutiveFailures = 0
        if self._observers:
            for observer in list(self._observers):
                observer.connectSucceeded(self, host)

    # Queue

    def leaveQueue(self, waiting):
        """
        C{waiting} left the queue (L{Waiting} calls this).
        """
        try:
            self._queue.remove(waiting)
        except ValueError:
            return
        if waiting.timer.active():
            waiting.timer.cancel()

    def _timedOut(self, waiting):
        try:
            self._queue.remove(waiting)
        except ValueError:
            return
        waiting.granted(self._refuse(QUEUE_TIMEOUT))

    def _serveQueue(self):
        while self._queue:
            waiting = self._queue[0]
            try:
                host = self.pick(waiting.client, waiting.tried)
            except NoHostAvailable:
                return
            self._queue.popleft()
            waiting.timer.cancel()
            waiting.granted(self._grant(host))

    @property
    def waiting(self):
        """
        How many clients wait in the queue now.
        """
        return len(self._queue)


__all__ = ["Pool", "UP", "DOWN", "DRAINING", "MAINT"]
