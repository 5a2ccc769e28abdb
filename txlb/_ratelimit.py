"""
Logging one line per burst instead of one line per event.
"""


class RateLimiter:
    """
    Lets one event through per C{interval} seconds and counts the rest.

    C{allow()} returns None while events are being suppressed, else the
    number suppressed since the last one let through (0 for the first).
    """

    __slots__ = ("clock", "interval", "_next", "_suppressed")

    def __init__(self, clock, interval=1.0):
        self.clock = clock
        self.interval = interval
        self._next = 0.0
        self._suppressed = 0

    def allow(self):
        now = self.clock.seconds()
        if now < self._next:
            self._suppressed += 1
            return None
        self._next = now + self.interval
        suppressed, self._suppressed = self._suppressed, 0
        return suppressed


def sinceLast(suppressed):
    """
    The end of a line let through by a L{RateLimiter}: how many were
    suppressed since the one before (nothing when none were).
    """
    return f" ({suppressed} more since the last report)" if suppressed else ""
