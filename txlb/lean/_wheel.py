"""
The coarse timer of the lean path: deadlines kept to a quarter of a second.
"""

from twisted.internet.task import LoopingCall

#: Seconds between sweeps of the timeout wheel.
TICK = 0.25


class Wheel:
    """
    Deadlines kept to a quarter of a second: C{add(when, callback, *args)};
    a callback is cancelled by the caller ignoring it (each owner checks a
    generation number), so adding is one list append.
    """

    def __init__(self, clock, tick=TICK):
        self.clock = clock
        self.tick = tick
        self.slots = {}
        self._loop = None

    def add(self, when, callback, *args):
        slot = int(when / self.tick) + 1
        entries = self.slots.get(slot)
        if entries is None:
            entries = self.slots[slot] = []
        entries.append((callback, args))

    def start(self):
        self._loop = LoopingCall(self.sweep)
        self._loop.clock = self.clock
        self._loop.start(self.tick, now=False)

    def stop(self):
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        self._loop = None

    def sweep(self):
        """
        Run every callback whose time has come.
        """
        now = int(self.clock.seconds() / self.tick)
        due = [slot for slot in self.slots if slot <= now]
        for slot in sorted(due):
            for callback, args in self.slots.pop(slot):
                callback(*args)
