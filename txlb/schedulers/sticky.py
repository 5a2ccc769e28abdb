"""
C{sticky}: a client returns to the host it had, for a while.

A table of client IP to host, kept for C{expiry} seconds after the
client's last connection, at most C{size} entries (the least recently seen
go first), cleaned up periodically on the injected clock. New clients, and
clients whose host is no longer available, are placed by an inner scheduler
(C{leastconns} by default), which hears of every change too.
"""

from collections import OrderedDict

from txlb.schedulers._base import Scheduler, clientKey
from txlb.schedulers._factory import SchedulerFactory
from txlb.schedulers.leastconns import LeastConnections


def _positive(convert):
    def check(text):
        value = convert(text)
        if not value > 0:
            raise ValueError("it must be above 0")
        return value

    return check


class Sticky(Scheduler):
    """
    Remembers client IP -> host; see the module docstring.
    """

    def __init__(self, clock=None, random=None, expiry=300.0, size=100_000, inner=None):
        """
        @param inner: the L{IScheduler} placing new clients (default: a
            L{LeastConnections}).
        """
        Scheduler.__init__(self, clock, random)
        self.expiry = expiry
        self.size = size
        self.inner = inner if inner is not None else LeastConnections(clock, random)
        self._table = OrderedDict()
        self._timer = None

    def setHosts(self, hosts):
        Scheduler.setHosts(self, hosts)
        self.inner.setHosts(hosts)

    def hostAdded(self, host):
        Scheduler.hostAdded(self, host)
        self.inner.hostAdded(host)

    def hostRemoved(self, host):
        Scheduler.hostRemoved(self, host)
        self.inner.hostRemoved(host)

    def hostUp(self, host):
        Scheduler.hostUp(self, host)
        self.inner.hostUp(host)

    def hostDown(self, host):
        Scheduler.hostDown(self, host)
        self.inner.hostDown(host)

    def weightChanged(self, host):
        Scheduler.weightChanged(self, host)
        self.inner.weightChanged(host)

    def pick(self, client, tried):
        key = clientKey(client)
        now = self.clock.seconds()
        entry = self._table.get(key)
        if entry is not None:
            host, expires = entry
            if expires > now and host in self.eligible and host.available and host not in tried:
                self._remember(key, host, now)
                return host
        host = self.inner.pick(client, tried)
        self._remember(key, host, now)
        return host

    def _remember(self, key, host, now):
        table = self._table
        table[key] = (host, now + self.expiry)
        table.move_to_end(key)
        while len(table) > self.size:
            table.popitem(last=False)
        if self._timer is None:
            self._timer = self.clock.callLater(self.expiry, self.cleanup)

    def cleanup(self):
        """
        Forget the clients whose time is up (the oldest come first, so this
        stops at the first that is still current).
        """
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
        now = self.clock.seconds()
        table = self._table
        while table:
            key, (host, expires) = next(iter(table.items()))
            if expires > now:
                break
            del table[key]
        if table:
            _, (_, expires) = next(iter(table.items()))
            self._timer = self.clock.callLater(max(expires - now, 0.001), self.cleanup)

    def __len__(self):
        return len(self._table)

    def connectionOpened(self, host):
        self.inner.connectionOpened(host)

    def connectionClosed(self, host):
        self.inner.connectionClosed(host)


def stickyFactory(makeScheduler):
    """
    The factory of C{sticky}, whose C{inner} option names the scheduler
    that places new clients.

    @param makeScheduler: makes that scheduler from its spec, a clock and
        a random source (the registry's C{makeScheduler}; given rather than
        imported, as the registry lists this module).
    """

    def build(clock, random, expiry=300.0, size=100_000, inner="leastconns"):
        return Sticky(clock, random, expiry, size, makeScheduler(inner, clock, random))

    return SchedulerFactory(
        name="sticky",
        description="a client IP returns to its host for expiry seconds; others placed by inner",
        schedulerClass=build,
        options={"expiry": _positive(float), "size": _positive(int), "inner": str},
    )
