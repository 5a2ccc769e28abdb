"""
Callbacks on a signal (C{SIGHUP} re-reads files): any number of parts of
txlb may ask to hear one signal, each through a L{SignalCallbacks}; the
signal handler is installed while at least one callback is registered,
runs the callbacks in the reactor's thread, and passes the signal on to
the handler that was there before (unless that was the default action or
ignoring it).
"""

import signal as _signal

from twisted.logger import Logger


class SignalCallbacks:
    """
    The callbacks run when this process receives C{signum}.

    @param reactor: runs the callbacks (C{callFromThread}, safe from a
        signal handler).
    @param signals: the C{signal} module, or a fake for tests.
    """

    log = Logger()

    def __init__(self, signum, reactor, signals=_signal):
        self.signum = signum
        self.reactor = reactor
        self.signals = signals
        self._callbacks = []
        self._previous = None
        self._installed = False

    def add(self, callback):
        """
        Call C{callback()} (in the reactor's thread) on each signal from now
        on; return a no-argument function that undoes this.
        """
        self._callbacks.append(callback)
        if not self._installed:
            self._previous = self.signals.signal(self.signum, self._handle)
            self._installed = True
        return lambda: self.remove(callback)

    def remove(self, callback):
        """
        Stop calling C{callback}; the last one removed puts back the handler
        found when the first was added.
        """
        if callback in self._callbacks:
            self._callbacks.remove(callback)
        if not self._callbacks and self._installed:
            previous = self._previous if self._previous is not None else self.signals.SIG_DFL
            self.signals.signal(self.signum, previous)
            self._installed = False

    def _handle(self, signum, frame):
        self.reactor.callFromThread(self.fire)
        previous = self._previous
        if callable(previous):
            previous(signum, frame)

    def fire(self):
        """
        Run every callback now (what a signal does); a failing one is logged
        and the others still run.
        """
        for callback in list(self._callbacks):
            try:
                callback()
            except Exception:
                self.log.failure("a callback for signal {signum} failed", signum=self.signum)


_registries = {}


def onSignal(signum, reactor, callback):
    """
    Call C{callback()} on each C{signum} this process receives (one
    L{SignalCallbacks} per signal and reactor, shared by every caller);
    return the function that stops it.
    """
    key = (signum, reactor)
    registry = _registries.get(key)
    if registry is None:
        registry = _registries[key] = SignalCallbacks(signum, reactor)
    return registry.add(callback)


def onHangup(reactor, callback):
    """
    Call C{callback()} on each C{SIGHUP} (see L{onSignal}).
    """
    return onSignal(_signal.SIGHUP, reactor, callback)
