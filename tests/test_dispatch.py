"""
The lean event dispatch: events still reach their selectables, a failing
handler disconnects only its own selectable, other reactors are untouched.
"""

import os

from twisted.internet.abstract import FileDescriptor
from twisted.internet.epollreactor import EPollReactor
from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import SynchronousTestCase

from txlb._dispatch import leanDispatch


class _Pipe(FileDescriptor):
    def __init__(self, reactor, fd, fail=False):
        FileDescriptor.__init__(self, reactor)
        self.fd = fd
        self.fail = fail
        self.read = []
        self.lost = []

    def fileno(self):
        return self.fd

    def doRead(self):
        if self.fail:
            raise ValueError("handler bug")
        self.read.append(os.read(self.fd, 100))

    def connectionLost(self, reason):
        self.lost.append(reason)


class LeanDispatchTests(SynchronousTestCase):
    def setUp(self):
        self.reactor = EPollReactor()
        self.addCleanup(self.reactor._poller.close)
        self.assertTrue(leanDispatch(self.reactor))

    def pipe(self, fail=False):
        r, w = os.pipe()
        self.addCleanup(os.close, w)
        self.addCleanup(lambda: os.close(r) if os.path.exists(f"/proc/self/fd/{r}") else None)
        selectable = _Pipe(self.reactor, r, fail)
        self.reactor.addReader(selectable)
        self.addCleanup(self.reactor.removeReader, selectable)
        return selectable, w

    def test_eventsReachSelectables(self):
        """
        A readable descriptor's doRead runs on the next iteration.
        """
        selectable, w = self.pipe()
        os.write(w, b"hello")
        self.reactor.doIteration(0)
        self.assertEqual(selectable.read, [b"hello"])

    def test_failureDisconnectsOnlyItsSelectable(self):
        """
        A handler that raises is logged and disconnected; the other
        selectable still gets its event.
        """
        bad, w1 = self.pipe(fail=True)
        good, w2 = self.pipe()
        os.write(w1, b"x")
        os.write(w2, b"y")
        self.reactor.doIteration(0)
        self.assertEqual(len(self.flushLoggedErrors(ValueError)), 1)
        self.assertEqual(len(bad.lost), 1)
        self.assertEqual(good.read, [b"y"])

    def test_otherReactors(self):
        """
        Reactors other than Twisted's epoll reactor are left alone.
        """
        memory = MemoryReactorClock()
        self.assertFalse(leanDispatch(memory))
        self.assertFalse(hasattr(memory, "doIteration"))
