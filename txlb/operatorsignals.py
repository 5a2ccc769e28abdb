"""
What the signals an operator sends do to a running txlb (see
C{doc/operations.rst}):

    =========  ==============================================================
    C{USR1}    reopen the log file and the access log at their paths (after
               logrotate renamed them); with C{--workers}, worker 0 passes it
               on to the other workers
    C{USR2}    nothing: one line is logged
    C{HUP}     what the parts that listen for it do (reload); with none, one
               line is logged. Never the default action, which would kill
               txlb without draining and leave its pid file behind
    =========  ==============================================================

The files register their own reopening (L{txlb._signals.onSignal}); this
service makes sure each of these signals is handled for the whole life of
the process, and replaces twistd's own C{SIGUSR1} handler (which renames
the log file to C{.1}, a rotation of its own) by a reopen.
"""

import signal

from twisted.application.service import Service
from twisted.logger import Logger

from txlb import _signals
from txlb._twisted import twistdRotatingLogFile


class OperatorSignals(Service):
    """
    Handles C{SIGUSR1}, C{SIGUSR2} and C{SIGHUP} from its start until the
    process ends (also while connections drain after a stop).

    @ivar balancer: the L{txlb.balancer.LoadBalancer} whose worker set, if
        any, hears C{SIGUSR1} too.
    """

    log = Logger()
    name = "signals"

    def __init__(self, balancer, reactor, onSignal=_signals.onSignal, signals=signal):
        self.balancer = balancer
        self.reactor = reactor
        self.onSignal = onSignal
        self.signals = signals
        self._hooked = False

    def privilegedStartService(self):
        """
        Before any service starts (and registers for C{SIGUSR1}): when
        twistd installed its rotating C{SIGUSR1} handler (C{twistd -y}
        logging to a file), reopen its log file instead.
        """
        Service.privilegedStartService(self)
        logFile = twistdRotatingLogFile(self.signals.getsignal(self.signals.SIGUSR1))
        if logFile is not None:
            self.signals.signal(self.signals.SIGUSR1, self.signals.SIG_DFL)
            self.onSignal(self.signals.SIGUSR1, self.reactor, lambda: _reopenTwistdLog(logFile))

    def startService(self):
        Service.startService(self)
        if self._hooked:
            return
        self._hooked = True
        self.onSignal(self.signals.SIGUSR1, self.reactor, self.userSignal1)
        self.onSignal(self.signals.SIGUSR2, self.reactor, self.userSignal2)
        self.onSignal(self.signals.SIGHUP, self.reactor, self.hangup)

    def userSignal1(self):
        """
        C{SIGUSR1}: the log files reopen themselves; pass it on to the
        other workers.
        """
        workers = getattr(self.balancer, "workers", None)
        count = workers.signal(self.signals.SIGUSR1) if workers is not None else 0
        more = f"; passed on to {count} more workers" if count else ""
        self.log.info("SIGUSR1: reopening the log files{more}", more=more)

    def userSignal2(self):
        """
        C{SIGUSR2}: nothing to do.
        """
        self.log.info("SIGUSR2 received: txlb gives it no meaning, nothing done")

    def hangup(self):
        """
        C{SIGHUP}: when nothing else listens for it, say that nothing
        happens.
        """
        if _signals.listening(self.signals.SIGHUP, self.reactor) <= 1:
            self.log.info("SIGHUP received: nothing to reload, nothing done")


def _reopenTwistdLog(logFile):
    logFile.reopen()
    OperatorSignals.log.info("reopened the log file {path}", path=logFile.path)


def handleSignals(top, reactor):
    """
    Add an L{OperatorSignals} to C{top} (the balancer service tree of a
    process: what C{twistd txlb} and C{twistd -y} run).
    """
    handler = OperatorSignals(top, reactor)
    handler.setServiceParent(top)
    return handler


__all__ = ["OperatorSignals", "handleSignals"]
