"""
C{maxconn}: the most client connections a service (or the whole process)
holds at once. At the cap txlb stops accepting on the listeners concerned,
as HAProxy does: new clients wait in the kernel's listen backlog, not in
txlb, and are accepted as soon as a connection ends.
"""

from twisted.logger import Logger

from txlb._ratelimit import RateLimiter, sinceLast


class ConnectionCap:
    """
    Counts connections against a limit and holds a set of listeners while
    the count is at the limit.

    A listener may be held by several caps at once (its service's and the
    process's): it accepts again only when every cap has let it go (see
    L{txlb.listener.Listener.hold}). A listener also takes no more
    connections in one accept batch than the caps have room for (see
    L{txlb._twisted.limitAccepts}), so a burst does not overshoot.

    @ivar name: what the cap is for, in log lines (C{service web}, C{the
        process}).
    @ivar limit: the most connections at once, or None for no limit.
    @ivar open: connections counted now.
    @ivar reached: how many times the cap was reached, ever.
    """

    log = Logger()

    def __init__(self, name, clock, limit=None):
        """
        @param clock: what rate-limits the log line said at the cap (one a
            minute).
        """
        self.name = name
        self.limit = limit
        self.open = 0
        self.reached = 0
        self.holding = False
        self._listeners = []
        self._log = RateLimiter(clock, 60.0)

    def addListener(self, listener):
        """
        Hold C{listener} too while at the cap (at once if at it now).
        """
        self._listeners.append(listener)
        listener.countedBy(self)
        if self.holding:
            listener.hold(self)

    def setLimit(self, limit):
        """
        Change the limit (a reconfiguration): hold or let go of the
        listeners at once as the new limit says.
        """
        self.limit = limit
        if self.holding and (limit is None or self.open < limit):
            self.holding = False
            for listener in self._listeners:
                listener.release(self)
        elif not self.holding and limit is not None and self.open >= limit:
            self.holding = True
            self.reached += 1
            for listener in self._listeners:
                listener.hold(self)

    def room(self):
        """
        How many more connections fit now (None: no limit).
        """
        if self.limit is None:
            return None
        return self.limit - self.open

    def opened(self):
        """
        One more connection.
        """
        self.open += 1
        if self.limit is not None and self.open >= self.limit and not self.holding:
            self.holding = True
            self.reached += 1
            suppressed = self._log.allow()
            if suppressed is not None:
                self.log.info(
                    "{cap}: maxconn {limit} reached; new clients wait in the listen "
                    "backlog until a connection ends{more}",
                    cap=self.name,
                    limit=self.limit,
                    more=sinceLast(suppressed),
                )
            for listener in self._listeners:
                listener.hold(self)

    def closed(self):
        """
        One connection fewer.
        """
        self.open -= 1
        if self.holding and (self.limit is None or self.open < self.limit):
            self.holding = False
            for listener in self._listeners:
                listener.release(self)
