"""
Callbacks on a signal: many parts of txlb may hear SIGHUP without taking
the handler from each other.
"""

import signal

from twisted.trial.unittest import SynchronousTestCase

from txlb._signals import SignalCallbacks


class _Signals:
    SIG_DFL = signal.SIG_DFL

    def __init__(self, previous=signal.SIG_DFL):
        self.handlers = {signal.SIGHUP: previous}

    def signal(self, signum, handler):
        previous, self.handlers[signum] = self.handlers[signum], handler
        return previous


class _Reactor:
    def callFromThread(self, f, *args):
        f(*args)


class SignalCallbackTests(SynchronousTestCase):
    def test_callbacks(self):
        """
        Every callback runs on the signal, a failing one does not stop the
        others (it is logged), and removing the last one puts the old
        handler back.
        """
        signals = _Signals()
        calls = []
        registry = SignalCallbacks(signal.SIGHUP, _Reactor(), signals)
        stopFirst = registry.add(lambda: calls.append(1))
        registry.add(lambda: 1 / 0)
        registry.add(lambda: calls.append(3))
        signals.handlers[signal.SIGHUP](signal.SIGHUP, None)
        self.assertEqual(calls, [1, 3])
        self.assertEqual(len(self.flushLoggedErrors(ZeroDivisionError)), 1)
        stopFirst()
        for callback in list(registry._callbacks):
            registry.remove(callback)
        self.assertIs(signals.handlers[signal.SIGHUP], signal.SIG_DFL)

    def test_chains(self):
        """
        A handler installed before is still called.
        """
        before = []
        signals = _Signals(previous=lambda signum, frame: before.append(signum))
        registry = SignalCallbacks(signal.SIGHUP, _Reactor(), signals)
        registry.add(lambda: None)
        signals.handlers[signal.SIGHUP](signal.SIGHUP, None)
        self.assertEqual(before, [signal.SIGHUP])
