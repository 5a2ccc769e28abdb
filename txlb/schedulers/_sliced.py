"""
Rebuilding a large structure a slice at a time on a clock, so that no
change holds the reactor for long.
"""

from txlb.schedulers._structures import finish


class SlicedRebuild:
    """
    Rebuilds one structure from builders (generators that do a bounded
    amount of work per step; see C{txlb.schedulers._structures._steps}),
    one step per turn of the clock, and installs each structure once it is
    complete; until then the last complete one stays in use.

    The first step runs at once, so a small structure is installed before
    L{request} returns. Requests made while a rebuild runs are coalesced:
    when it completes, one more rebuild starts from the state at that time
    (the one under way is not abandoned, so a steady stream of changes still
    installs a new structure every rebuild or two).

    @ivar busy: whether a rebuild is under way.
    """

    def __init__(self, clock, start, install):
        """
        @param clock: an L{IReactorTime}; with None, a rebuild runs to its
            end at once.
        @param start: called with no arguments when a rebuild starts; returns
            a builder of the new structure from the state at that time.
        @param install: called with each complete structure.
        """
        self._clock = clock
        self._start = start
        self._install = install
        self._steps = None
        self._again = False
        self._call = None

    @property
    def busy(self):
        return self._steps is not None

    def request(self):
        """
        The state changed: build the structure anew.
        """
        if self._steps is not None:
            self._again = True
            return
        self._begin()

    def _begin(self):
        self._again = False
        if self._clock is None:
            self._install(finish(self._start()))
            return
        self._steps = self._start()
        self._step()

    def _next(self):
        self._call = self._clock.callLater(0, self._step)

    def _step(self):
        self._call = None
        try:
            next(self._steps)
        except StopIteration as done:
            self._steps = None
            self._install(done.value)
            if self._again:
                self._again = False
                self._steps = self._start()
                self._next()
            return
        except BaseException:
            # A builder that fails is dropped, so the next request starts anew.
            self._steps = None
            raise
        self._next()

    def cancel(self):
        """
        Stop the rebuild under way, if any; nothing more is installed.
        """
        if self._call is not None and self._call.active():
            self._call.cancel()
        self._call = None
        self._steps = None
        self._again = False
