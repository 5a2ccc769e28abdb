"""
What a pool answers a client that asks for a host (L{txlb.interfaces.IPool}):
a L{Lease} on a host, a L{Waiting} place in the queue, or a L{Refusal}.
"""

import attr
from zope.interface import implementer

from txlb.interfaces import ILease, IRefusal, IWait

#: Why a pool refuses a client: the keys of L{Pool.refusals}.
NO_HOST = "no-host"
NO_OTHER_HOST = "no-other-host"
QUEUE_FULL = "queue-full"
QUEUE_TIMEOUT = "queue-timeout"


@implementer(IRefusal)
@attr.s(frozen=True, slots=True)
class Refusal:
    """
    A pool's answer when it has no host for a client.

    @ivar kind: one of L{NO_HOST}, L{NO_OTHER_HOST}, L{QUEUE_FULL},
        L{QUEUE_TIMEOUT}.
    @ivar reason: the same, as a phrase for logs.
    """

    kind = attr.ib()
    reason = attr.ib()


REFUSALS = {
    NO_HOST: Refusal(NO_HOST, "no host is available"),
    NO_OTHER_HOST: Refusal(NO_OTHER_HOST, "no other host is available"),
    QUEUE_FULL: Refusal(QUEUE_FULL, "the wait queue is full"),
    QUEUE_TIMEOUT: Refusal(QUEUE_TIMEOUT, "no host had a free slot within the queue timeout"),
}


@implementer(ILease)
class Lease:
    """
    One host granted to one client connection; given back exactly once.
    """

    __slots__ = ("pool", "host", "granted", "connectedAt")

    def __init__(self, pool, host, granted):
        self.pool = pool
        self.host = host
        self.granted = granted
        self.connectedAt = None

    def connected(self):
        self.pool.leaseConnected(self)

    def failed(self, reason):
        host, self.host = self.host, None
        if host is not None:
            self.pool.giveBack(self, host)
            self.pool.connectFailed(host, reason)

    def release(self):
        host, self.host = self.host, None
        if host is not None:
            self.pool.giveBack(self, host)


@implementer(IWait)
class Waiting:
    """
    A client waiting in the queue for a host with a free slot.
    """

    __slots__ = ("pool", "client", "tried", "granted", "timer")

    def __init__(self, pool, client, tried, granted):
        self.pool = pool
        self.client = client
        self.tried = tried
        self.granted = granted
        self.timer = None

    def cancel(self):
        self.pool.leaveQueue(self)
