"""
A leaner event dispatch for the epoll reactor.

Twisted's epoll reactor wraps every readiness event in
C{log.callWithLogger}, which asks the selectable for its log prefix and
pushes a logging context (three calls and a dict per event) only so that
old-style log lines emitted during the event carry a "system" prefix.
txlb logs through C{twisted.logger} with its own namespaces, so the relay
dispatches events directly; an exception escaping an event handler is
still logged and still disconnects that selectable, as Twisted does.
"""

import errno

from twisted.logger import Logger

from txlb._twisted import epollInternals

_log = Logger(namespace="txlb.dispatch")


def _doPoll(poller, selectables, dispatch, timeout):
    if timeout is None:
        timeout = -1
    try:
        events = poller.poll(timeout, len(selectables))
    except OSError as err:
        if err.errno == errno.EINTR:
            return
        raise
    for fd, event in events:
        selectable = selectables.get(fd)
        if selectable is not None:
            try:
                dispatch(selectable, fd, event)
            except BaseException:
                _log.failure("event on {selectable!r} failed", selectable=selectable)


def leanDispatch(reactor):
    """
    Make C{reactor} (when it is Twisted's epoll reactor) dispatch events
    without a logging context per event; return True when it did.
    """
    try:
        from twisted.internet.epollreactor import EPollReactor
    except ImportError:
        return False
    if type(reactor) is not EPollReactor:
        return False
    internals = epollInternals(reactor)
    if internals is None:
        return False
    poller, selectables, dispatch = internals

    def doIteration(timeout):
        _doPoll(poller, selectables, dispatch, timeout)

    reactor.doIteration = doIteration
    reactor.doPoll = doIteration
    return True
