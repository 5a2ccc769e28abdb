"""
A pool: the hosts of one group, their state and counters, its scheduler and
its wait queue.

The pool is the one place host state changes. It tells its schedulers once
per change (one-way: schedulers never reach into the pool) and tells its
observers (health checks, passive ejection, the admin) what happened.
"""

from collections import OrderedDict, deque

from twisted.logger import Logger

from txlb.backend import DOWN, DRAINING, MAINT, STATES, UP, Failure, StateChange
from txlb.errors import ConfigError, NoHostAvailable

DEFAULT_QUEUE_SIZE = 256
DEFAULT_QUEUE_TIMEOUT = 10.0


class _Waiter:
    """
    A client waiting in the queue for a host with a free slot.
    """

    __slots__ = ("client", "tried", "callback", "timer")

    def __init__(self, client, tried, callback):
        self.client = client
        self.tried = tried
        self.callback = callback
        self.timer = None


class Pool:
    """
    The runtime form of a group.

    @ivar name: the group's name.
    @ivar hosts: the hosts by name, in the order they were added.
    @ivar schedulerSpec: the scheduler as the user named it.
    @ivar queued: clients that waited in the queue, ever (int).
    @ivar refused: clients refused because nothing was available (int).
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
        self._rebuild()

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

    def _rebuild(self):
        primaries, backups = [], []
        for host in self.hosts.values():
            if host.state == UP:
                (backups if host.backup else primaries).append(host)
        self._primary.setHosts(primaries)
        self._backup.setHosts(backups)

    # Membership

    def addHost(self, host):
        """
        Add a L{Backend}; its name must be new in this pool.

        @raise ConfigError: when the name is taken.
        """
        if host.name in self.hosts:
            raise ConfigError(f"group {self.name!r} already has a host named {host.name!r}")
        self.hosts[host.name] = host
        self._rebuild()
        self._serveQueue()

    def removeHost(self, name):
        """
        Take a host out; its open connections run to their end.

        @raise ConfigError: for an unknown name.
        """
        host = self.getHost(name)
        del self.hosts[name]
        if host.state == UP:
            self._changeState(host, DRAINING, "removed")
        self._rebuild()
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
        host.effectiveWeight = weight
        self._rebuild()

    def setEffectiveWeight(self, host, weight):
        """
        Change the weight schedulers use for C{host}, such as during slow start.
        """
        if host.effectiveWeight != weight:
            host.effectiveWeight = weight
            self._rebuild()

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
        self._changeState(host, state, reason)
        self._rebuild()
        if state == UP:
            self._serveQueue()

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

    # Accounting

    def opened(self, host):
        """
        Count a connection (or a connection attempt) handed to C{host}.
        """
        host.open += 1
        host.total += 1
        (self._backup if host.backup else self._primary).connectionOpened(host)

    def closed(self, host):
        """
        Count the end of a connection counted by L{opened}; call exactly once.
        """
        host.open -= 1
        host.lastClosed = self.clock.seconds()
        (self._backup if host.backup else self._primary).connectionClosed(host)
        if self._queue:
            self._serveQueue()

    def connectFailed(self, host, reason):
        """
        A connection attempt to C{host} failed: count it and tell observers.
        The host stays in circulation unless an observer decides otherwise.
        """
        host.failed += 1
        host.consecutiveFailures += 1
        host.lastFailure = Failure(self.clock.seconds(), reason)
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

    def wait(self, client, tried, callback):
        """
        Queue a client until a host has a free slot.

        C{callback(host)} is called with the host once one is free (already
        counted by L{opened}), or C{callback(None)} when the wait times out.

        @return: a handle for L{cancelWait}, or None when the queue is full
            (the client is refused; C{callback} is never called).
        """
        if len(self._queue) >= self.queueSize:
            self.refused += 1
            return None
        waiter = _Waiter(client, tried, callback)
        waiter.timer = self.clock.callLater(self.queueTimeout, self._timedOut, waiter)
        self._queue.append(waiter)
        self.queued += 1
        return waiter

    def cancelWait(self, waiter):
        """
        Take a client out of the queue (it went away).
        """
        try:
            self._queue.remove(waiter)
        except ValueError:
            return
        if waiter.timer.active():
            waiter.timer.cancel()

    def _timedOut(self, waiter):
        try:
            self._queue.remove(waiter)
        except ValueError:
            return
        self.refused += 1
        waiter.callback(None)

    def _serveQueue(self):
        while self._queue:
            waiter = self._queue[0]
            try:
                host = self.pick(waiter.client, waiter.tried)
            except NoHostAvailable:
                return
            self._queue.popleft()
            waiter.timer.cancel()
            self.opened(host)
            waiter.callback(host)

    @property
    def waiting(self):
        """
        How many clients wait in the queue now.
        """
        return len(self._queue)


__all__ = ["Pool", "UP", "DOWN", "DRAINING", "MAINT"]
