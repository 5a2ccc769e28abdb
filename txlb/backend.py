"""
A backend host: its configuration, its state and its exact counters.
"""

from collections import deque

import attr
from zope.interface import implementer

from txlb.interfaces import IBackend

UP = "up"
DOWN = "down"
DRAINING = "draining"
MAINT = "maint"
STATES = (UP, DOWN, DRAINING, MAINT)

HISTORY_LENGTH = 20


@attr.s(frozen=True, slots=True)
class StateChange:
    """
    One change of a host's state.
    """

    time = attr.ib()
    old = attr.ib()
    new = attr.ib()
    reason = attr.ib()


@attr.s(frozen=True, slots=True)
class LastFailure:
    """
    The last failure seen on a host: when (seconds since the epoch) and why.
    """

    time = attr.ib()
    reason = attr.ib()


@implementer(IBackend)
class Backend:
    """
    A host of a group as it runs.

    Only the pool that holds the host changes it; everyone else reads it.
    """

    __slots__ = (
        "name",
        "address",
        "connector",
        "weight",
        "effectiveWeight",
        "backup",
        "maxconn",
        "proxy",
        "state",
        "open",
        "total",
        "failed",
        "consecutiveFailures",
        "bytesIn",
        "bytesOut",
        "lastFailure",
        "lastClosed",
        "history",
        "__weakref__",
    )

    def __init__(self, name, address, connector, weight=1, backup=False, maxconn=None, proxy=None):
        self.name = name
        self.address = address
        self.connector = connector
        self.weight = weight
        self.effectiveWeight = weight
        self.backup = backup
        self.maxconn = maxconn
        # The PROXY protocol header sent first on each connection: "v1",
        # "v2" or None.
        self.proxy = proxy
        self.state = UP
        self.open = 0
        self.total = 0
        self.failed = 0
        self.consecutiveFailures = 0
        self.bytesIn = 0
        self.bytesOut = 0
        self.lastFailure = None
        self.lastClosed = 0.0
        self.history = deque(maxlen=HISTORY_LENGTH)

    @property
    def available(self):
        """
        True when the host is up and under its C{maxconn}.
        """
        return self.state == UP and (self.maxconn is None or self.open < self.maxconn)

    @property
    def full(self):
        """
        True when the host is up but at its C{maxconn}.
        """
        return self.state == UP and self.maxconn is not None and self.open >= self.maxconn

    def __repr__(self):
        return f"<Backend {self.name} {self.address} {self.state} open={self.open}>"
