"""
Asking a pool for a host, as both relays do (Twisted's, L{txlb.failover},
and the lean path's, L{txlb.lean}): a lease is connected to, a wait is
kept, a refusal ends the client with the word of L{txlb.terminations} it
means.
"""

from txlb import terminations
from txlb.interfaces import ILease, IRefusal


class AsksPool:
    """
    A base for what finds a client its host. Subclasses have C{settings}
    (with C{maxTries}), C{tried} (the hosts tried, a tuple) and C{waiting},
    and provide C{_connect(lease)} and C{_giveUp(termination, why)}.
    """

    __slots__ = ()

    def _ask(self, pool, client):
        """
        Ask C{pool} for a host for C{client}, unless every try is used up.
        """
        if len(self.tried) >= self.settings.maxTries:
            self._giveUp(terminations.CONNECT_FAILED, "no host answered after %d tries" % len(self.tried))
            return
        outcome = pool.acquire(client, self.tried, self._granted)
        if ILease.providedBy(outcome):
            self._connect(outcome)
        elif IRefusal.providedBy(outcome):
            self._refused(outcome)
        else:
            self.waiting = outcome

    def _granted(self, outcome):
        self.waiting = None
        if ILease.providedBy(outcome):
            self._connect(outcome)
        else:
            self._refused(outcome)

    def _refused(self, refusal):
        termination = terminations.FROM_REFUSAL.get(refusal.kind, terminations.NO_HOST)
        if self.tried and termination == terminations.NO_HOST:
            # Hosts were tried and failed; none is left to try.
            termination = terminations.CONNECT_FAILED
        self._giveUp(termination, refusal.reason)
