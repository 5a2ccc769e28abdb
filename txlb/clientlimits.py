"""
Per-client limits: how many connections one client address may hold open
at once, and how many new ones it may open per second (a sliding window
of one second), kept in a table of bounded size.

The table holds an entry for each address that has a connection open
(its count is needed when the connection ends) and, when a rate is set,
for each address admitted within the last second (its admission times).
An entry with nothing open is dropped once its last admission is a
second old. At most C{capacity} such idle entries are kept: when more
addresses than that connected within one second (a scan, a flood from a
botnet), the idle entry seen longest ago is evicted and forgets its
history, so that address is briefly not rate limited (the table fails
open for it). Failing closed instead, refusing addresses the table has no
room for, would let anyone lock every new client out with a scan. Entries
with connections open are never evicted; there are never more of them
than connections open, which C{maxconn} and the descriptor limit bound.

Only admitted connections count toward the rate: a refused attempt does
not push the window forward, so a client that retries too fast still
gets its share.

Pure: the clock is injected (anything with C{seconds()}).
"""

from collections import OrderedDict, deque

#: Reason words a refused client is counted under.
MAX_CLIENT_CONNS = "max-client-conns"
MAX_CLIENT_RATE = "max-client-rate"

#: Idle entries kept at most (see the module's docstring).
DEFAULT_CAPACITY = 65536

#: The rate's window, in seconds.
WINDOW = 1.0


class _Entry:
    __slots__ = ("open", "times")

    def __init__(self, rate):
        self.open = 0
        self.times = deque(maxlen=rate) if rate else None


class ClientTable:
    """
    Admits or refuses new connections by client address.

    @ivar maxConns: connections one address may hold open, or None.
    @ivar maxRate: connections one address may open per second, or None.
    @ivar evicted: idle entries evicted to respect C{capacity}, ever.
    """

    def __init__(self, clock, maxConns=None, maxRate=None, capacity=DEFAULT_CAPACITY):
        self.clock = clock
        self.maxConns = maxConns
        self.maxRate = maxRate
        self.capacity = capacity
        self.evicted = 0
        self._active = {}
        self._idle = OrderedDict()

    def __len__(self):
        return len(self._active) + len(self._idle)

    def admit(self, key):
        """
        A client at C{key} (its address) wants a new connection: None when
        admitted (then L{release} it when it ends), else the reason word
        (L{MAX_CLIENT_CONNS} or L{MAX_CLIENT_RATE}).
        """
        now = self.clock.seconds()
        self._expire(now)
        entry = self._active.get(key)
        if entry is None:
            entry = self._idle.get(key)
        if entry is not None:
            if self.maxConns is not None and entry.open >= self.maxConns:
                return MAX_CLIENT_CONNS
            times = entry.times
            if times is not None and len(times) == times.maxlen and times[0] > now - WINDOW:
                return MAX_CLIENT_RATE
        else:
            entry = _Entry(self.maxRate)
        if entry.times is not None:
            entry.times.append(now)
        if entry.open == 0:
            self._idle.pop(key, None)
            self._active[key] = entry
        entry.open += 1
        return None

    def release(self, key):
        """
        A connection admitted for C{key} ended.
        """
        entry = self._active.get(key)
        if entry is None:
            return
        entry.open -= 1
        if entry.open > 0:
            return
        del self._active[key]
        if entry.times is not None and entry.times:
            self._idle[key] = entry
            while len(self._idle) > self.capacity:
                self._idle.popitem(last=False)
                self.evicted += 1

    def setLimits(self, maxConns, maxRate):
        """
        Change the limits in place (a reconfiguration): the connections
        open now stay counted; with a new rate, each address keeps its
        latest admission times.
        """
        self.maxConns = maxConns
        if maxRate == self.maxRate:
            return
        self.maxRate = maxRate
        for table in (self._active, self._idle):
            for key, entry in list(table.items()):
                times = entry.times
                entry.times = deque(times or (), maxlen=maxRate) if maxRate else None
                if table is self._idle and not entry.times:
                    del table[key]

    def openFor(self, key):
        """
        Connections open now for C{key}.
        """
        entry = self._active.get(key)
        return entry.open if entry is not None else 0

    def _expire(self, now):
        idle = self._idle
        while idle:
            key, entry = next(iter(idle.items()))
            if entry.times[-1] > now - WINDOW:
                return
            del idle[key]
