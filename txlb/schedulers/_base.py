"""
What every scheduler shares: choosing from a bounded list of candidates in
preference order, preferring untried hosts, with a rare full fallback.
"""

from zope.interface import implementer

from txlb.errors import NoHostAvailable
from txlb.interfaces import IScheduler

#: How many candidates a pick looks at before falling back.
WALK = 16


def firstAvailable(candidates, tried, hosts):
    """
    Return the first available host of C{candidates} (an iterable in
    preference order, read at most L{WALK} items) that is not in C{tried};
    failing that, any available untried host of C{hosts}; failing that, the
    first available host seen even if tried.

    The scan of C{hosts} happens only when the candidates were all tried or
    unavailable, which a failover or a nearly full group makes rare.

    @raise NoHostAvailable: when no host is available.
    """
    fallback = None
    seen = 0
    for host in candidates:
        if host.available:
            if host not in tried:
                return host
            if fallback is None:
                fallback = host
        seen += 1
        if seen >= WALK:
            break
    for host in hosts:
        if host.available and host not in tried:
            return host
    if fallback is not None:
        return fallback
    for host in hosts:
        if host.available:
            return host
    raise NoHostAvailable("no host is available")


@implementer(IScheduler)
class Scheduler:
    """
    A base for schedulers: keeps the hosts with a positive effective weight,
    and by default ignores connection events.

    @ivar hosts: the hosts chosen from, in configuration order.
    """

    def __init__(self, clock=None, random=None):
        self.clock = clock
        self.random = random
        self.members = []
        self.hosts = []

    def setHosts(self, hosts):
        self.members = list(hosts)
        self._syncEligible()

    def _syncEligible(self):
        self.hosts = [h for h in self.members if h.state == "up" and h.effectiveWeight > 0]
        self.rebuild()

    def hostAdded(self, host):
        self.members.append(host)
        self._syncEligible()

    def hostRemoved(self, host):
        self.members.remove(host)
        self._syncEligible()

    def hostUp(self, host):
        self._syncEligible()

    def hostDown(self, host):
        self._syncEligible()

    def weightChanged(self, host):
        self._syncEligible()

    def rebuild(self):
        """
        Rebuild whatever makes a pick cheap, after C{self.hosts} changed.
        """

    def pick(self, client, tried):
        raise NoHostAvailable("no host is available")

    def connectionOpened(self, host):
        pass

    def connectionClosed(self, host):
        pass


def clientKey(client):
    """
    The key a client is hashed or remembered by: its IP address (or the
    whole address for non-IP clients such as UNIX sockets).
    """
    host = getattr(client, "host", None)
    return host if host is not None else str(client)


def intWeights(hosts):
    """
    The hosts' effective weights as positive whole numbers (slow start may
    make them fractional: they are scaled by 10 and rounded up).
    """
    weights = [h.effectiveWeight for h in hosts]
    if all(isinstance(w, int) for w in weights):
        return weights
    return [max(1, int(round(w * 10))) for w in weights]
