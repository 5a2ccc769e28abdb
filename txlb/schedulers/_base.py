"""
What every scheduler shares: the members and which of them are eligible,
kept up to date by the pool's change hooks; one C{pick} that chooses from a
bounded list of candidates in preference order, preferring untried hosts,
with a rare full fallback.
"""

from bisect import bisect_left

from zope.interface import implementer

from txlb.backend import UP
from txlb.errors import NoHostAvailable
from txlb.interfaces import IScheduler
from txlb.schedulers._structures import hashKey

#: How many candidates a pick looks at before falling back.
WALK = 16

#: How many entries of a hash table or ring a pick reads at most: a table
#: built before the last change may name hosts no longer eligible, and a
#: pick must not walk a whole table of them.
READ = 8 * WALK


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
    A base for schedulers. It keeps the members the pool handed it and,
    among them, the eligible hosts (up, with a positive effective weight),
    and turns the pool's five change hooks into three simpler ones about
    eligible hosts: L{eligibleAdded}, L{eligibleRemoved} and
    L{eligibleReweighted}. Each calls L{rebuild} unless a subclass updates
    its structure in place.

    A member's state is read when it is handed over (L{setHosts},
    L{hostAdded}); from then on L{hostUp} and L{hostDown} say whether it is
    up. Its C{effectiveWeight} is read at each change, so the pool calls a
    hook after changing the host.

    L{pick} is written once here: a subclass gives its L{candidates} for a
    client in preference order, and the pick takes the first available one
    the connection has not tried (see L{firstAvailable}).

    @ivar members: every member, mapped to its rank in configuration order
        (a dict, in that order; a host added later ranks after the others).
    @ivar hosts: the eligible hosts, in configuration order (a list).
    @ivar eligible: the same hosts as a set, for quick tests.
    """

    def __init__(self, clock=None, random=None):
        self.clock = clock
        self.random = random
        self.members = {}
        self.hosts = []
        self.eligible = set()
        self._ranks = []
        self._up = set()
        self._nextRank = 0

    # The pool's hooks (IScheduler)

    def setHosts(self, hosts):
        members = {}
        for host in hosts:
            members.setdefault(host, len(members))
        self.members = members
        self._nextRank = len(members)
        self._up = {host for host in members if host.state == UP}
        self.hosts = [host for host in members if self._qualifies(host)]
        self._ranks = [members[host] for host in self.hosts]
        self.eligible = set(self.hosts)
        self.rebuild()

    def hostAdded(self, host):
        if host not in self.members:
            self.members[host] = self._nextRank
            self._nextRank += 1
        if host.state == UP:
            self._up.add(host)
        else:
            self._up.discard(host)
        self._updateEligibility(host, False)

    def hostRemoved(self, host):
        if host in self.members:
            self._up.discard(host)
            self._updateEligibility(host, False)
            del self.members[host]

    def hostUp(self, host):
        if host in self.members:
            self._up.add(host)
            self._updateEligibility(host, False)

    def hostDown(self, host):
        if host in self.members:
            self._up.discard(host)
            self._updateEligibility(host, False)

    def weightChanged(self, host):
        if host in self.members:
            self._updateEligibility(host, True)

    def _qualifies(self, host):
        return host in self._up and host.effectiveWeight > 0

    def _updateEligibility(self, host, reweighted):
        was = host in self.eligible
        now = self._qualifies(host)
        if not (was or now):
            return
        rank = self.members[host]
        index = bisect_left(self._ranks, rank)
        if now and not was:
            self.hosts.insert(index, host)
            self._ranks.insert(index, rank)
            self.eligible.add(host)
            self.eligibleAdded(host, index)
        elif was and not now:
            del self.hosts[index]
            del self._ranks[index]
            self.eligible.discard(host)
            self.eligibleRemoved(host, index)
        elif reweighted:
            self.eligibleReweighted(host, index)

    # What subclasses override

    def rebuild(self):
        """
        Rebuild whatever makes a pick cheap from C{self.hosts}, all at once
        (after L{setHosts}, and by default after every change).
        """

    def eligibleAdded(self, host, index):
        """
        C{host} became eligible; it is at C{self.hosts[index]} now.
        """
        self.rebuild()

    def eligibleRemoved(self, host, index):
        """
        C{host} is no longer eligible; it was at C{self.hosts[index]}.
        """
        self.rebuild()

    def eligibleReweighted(self, host, index):
        """
        The effective weight of C{host}, eligible at C{self.hosts[index]},
        changed (and is still positive).
        """
        self.rebuild()

    def candidates(self, client):
        """
        The hosts to offer C{client}, best first (an iterable, read lazily
        and at most L{WALK} items deep; unavailable hosts are skipped by
        L{pick}). Only called when some host is eligible. By default, the
        eligible hosts in configuration order.
        """
        return self.hosts

    # Picks and connection events

    def pick(self, client, tried):
        hosts = self.hosts
        if not hosts:
            raise NoHostAvailable("no host is available")
        return firstAvailable(self.candidates(client), tried, hosts)

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


def aroundKey(hosts, key):
    """
    C{hosts} (a non-empty list) starting at the one C{key} hashes to, then
    the following ones, wrapping round: how a hashing scheduler places
    clients until its first table is complete.
    """
    start = hashKey(key) % len(hosts)
    for offset in range(len(hosts)):
        yield hosts[(start + offset) % len(hosts)]


def intWeights(hosts):
    """
    The hosts' effective weights as positive whole numbers (slow start may
    make them fractional: they are scaled by 10 and rounded up).
    """
    weights = [h.effectiveWeight for h in hosts]
    if all(isinstance(w, int) for w in weights):
        return weights
    return [max(1, int(round(w * 10))) for w in weights]
