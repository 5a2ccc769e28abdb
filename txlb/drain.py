"""
Draining a stopped service: once its listeners stop accepting, open
connections may finish for a while; what is left then is aborted.
"""

from twisted.internet.defer import Deferred
from twisted.logger import Logger

from txlb import terminations


class Drain:
    """
    The drain of one service's open connections.

    @param clients: the service's open connections (a set the service keeps
        up to date); each has C{abort(termination)}.
    @param timeout: seconds they may run on.
    """

    log = Logger()

    def __init__(self, service, clients, clock, timeout):
        self.service = service
        self.clients = clients
        self.clock = clock
        self.timeout = timeout
        self._drained = None
        self._timer = None

    def start(self):
        """
        Wait for the open connections: None when there are none, else a
        Deferred that fires once they are gone or aborted.
        """
        if not self.clients:
            return None
        self.log.info(
            "service {service}: stopped accepting; draining {count} open "
            "connections for up to {timeout} s",
            service=self.service,
            count=len(self.clients),
            timeout=self.timeout,
        )
        self._drained = Deferred()
        self._timer = self.clock.callLater(self.timeout, self._timedOut)
        return self._drained

    def clientGone(self):
        """
        A connection ended; the last one ends the drain.
        """
        if self._drained is not None and not self.clients:
            self._finished()

    def _timedOut(self):
        self._timer = None
        self.log.warn(
            "service {service}: drain timeout; aborting {count} open connections",
            service=self.service,
            count=len(self.clients),
        )
        for client in list(self.clients):
            client.abort(terminations.SHUTDOWN)
        self._finished()

    def _finished(self):
        drained, self._drained = self._drained, None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self.clients:
            self.log.info("service {service}: drained", service=self.service)
        drained.callback(None)
