"""
Backends named by host name (C{app.internal:8080}): resolved without
blocking through C{twisted.names}, A and AAAA, cached for the records'
TTL (clamped to L{MIN_TTL} and L{MAX_TTL}) and re-resolved in the
background before they expire. A failed lookup keeps the last good answer
(logged once until a lookup succeeds again).

Names in C{/etc/hosts} are answered from it and nothing else (as the C
library does with C{files} before C{dns}), so C{localhost} never waits
for a DNS server; other names are asked of the C{--dns} servers, or of
those of C{/etc/resolv.conf}. The two resolvers are used in turn rather
than through C{twisted.names.client.createResolver}'s chain because the
chain asks DNS for the AAAA record of a name the hosts file knows only
as IPv4, and its cache would hide the TTL this module schedules by.
"""

import socket

from twisted.application.service import Service
from twisted.internet import defer
from twisted.internet.abstract import isIPAddress, isIPv6Address
from twisted.internet.error import DNSLookupError
from twisted.logger import Logger
from twisted.names import client, dns, error, hosts
from zope.interface import implementer

from txlb.errors import ConfigError
from txlb.interfaces import IConnector

#: The shortest and longest time (seconds) an answer is kept, whatever
#: TTL the records carry.
MIN_TTL, MAX_TTL = 5.0, 3600.0
#: The part of an answer's lifetime after which it is looked up again.
REFRESH_AT = 0.75
#: Seconds between lookups while they fail.
RETRY = 5.0
#: Seconds to wait for each try of a DNS query (then the next server).
QUERY_TIMEOUT = (1, 3)


def parseServer(text):
    """
    Read a DNS server written C{HOST}, C{HOST:PORT} or C{[IPv6]:PORT}.

    @raise ConfigError: for anything else.
    """
    host, port = text, "53"
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ("53" if not rest else "")
    elif text.count(":") == 1:
        host, _, port = text.partition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"a DNS server is written HOST:PORT such as 127.0.0.1:53, not {text!r}")
    return host, int(port)


class Resolved:
    """
    What one host name resolves to: the addresses in use (IPv4 first),
    kept fresh in the background once first asked for.

    @ivar addresses: the last good answer, a tuple of IP address strings.
    @ivar expires: when that answer's TTL runs out (clock seconds).
    @ivar failing: why the last lookup failed, or None.
    """

    log = Logger()

    def __init__(self, names, name):
        self.names = names
        self.name = name
        self.addresses = ()
        self.expires = None
        self.failing = None
        self._waiting = []
        self._looking = False
        self._timer = None

    def current(self):
        """
        A Deferred firing with the addresses: at once when there is an
        answer (even an old one kept because lookups fail), else after the
        first lookup; failing with L{DNSLookupError} when it finds nothing.
        """
        if self.addresses:
            return defer.succeed(self.addresses)
        d = defer.Deferred()
        self._waiting.append(d)
        if not self._looking:
            self.lookup()
        return d

    def lookup(self):
        """
        Look the name up now; a Deferred firing when done.
        """
        self.stop()
        self._looking = True
        d = self.names.query(self.name)
        d.addCallbacks(self._answered, self._failed)
        return d

    def _answered(self, answer):
        self._looking = False
        addresses, ttl = answer
        if self.failing is not None:
            self.log.info("{name}: lookups work again", name=self.name)
        self.failing = None
        if addresses != self.addresses:
            self.log.info(
                "{name} resolves to {addresses} (for {ttl:g} s)",
                name=self.name, addresses=", ".join(addresses), ttl=ttl,
            )
        self.addresses = addresses
        self.expires = self.names.clock.seconds() + ttl
        self._schedule(ttl * REFRESH_AT)
        waiting, self._waiting = self._waiting, []
        for d in waiting:
            d.callback(addresses)

    def _failed(self, reason):
        self._looking = False
        why = _why(reason)
        if self.failing is None:
            kept = f"; keeping {', '.join(self.addresses)}" if self.addresses else ""
            self.log.warn("lookup of {name} failed: {why}{kept}", name=self.name, why=why, kept=kept)
        self.failing = why
        self._schedule(RETRY)
        waiting, self._waiting = self._waiting, []
        for d in waiting:
            d.errback(DNSLookupError(f"{self.name}: {why}"))

    def _schedule(self, delay):
        self.stop()
        if self.names.running:
            self._timer = self.names.clock.callLater(delay, self.lookup)

    def stop(self):
        """
        Stop refreshing.
        """
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None


def _why(reason):
    """
    A few words for why a lookup failed.
    """
    if reason.check(error.DNSNameError, error.DomainError):
        return "no such name"
    if reason.check(error.DNSQueryTimeoutError, defer.TimeoutError):
        return "no DNS server answered"
    if reason.check(error.DNSServerError):
        return "the DNS server failed"
    if reason.check(error.DNSQueryRefusedError):
        return "the DNS server refused the query"
    return reason.getErrorMessage() or reason.type.__name__


class HostNames(Service):
    """
    Resolves and caches the host names backends are written with; one per
    balancer (a service, so that its refresh timers stop with it).

    @ivar servers: the DNS servers as C{(host, port)}; empty for those of
        C{/etc/resolv.conf}.
    """

    name = "hostnames"

    def __init__(self, reactor, clock=None, servers=(), hostsFile=b"/etc/hosts",
                 minTTL=MIN_TTL, maxTTL=MAX_TTL, timeout=QUERY_TIMEOUT, resolvers=None):
        """
        @param servers: C{HOST:PORT} strings.
        @param resolvers: C{(hostsResolver, dnsResolver)} to use instead of
            those made from C{hostsFile} and C{servers} (tests).
        @raise ConfigError: for a server written wrongly.
        """
        self.reactor = reactor
        self.clock = clock if clock is not None else reactor
        self.servers = [parseServer(s) for s in servers]
        self.hostsFile = hostsFile
        self.minTTL = minTTL
        self.maxTTL = maxTTL
        self.timeout = timeout
        self._resolvers = resolvers
        self.names = {}

    def resolvers(self):
        """
        C{(hostsResolver, dnsResolver)}, made on first use.
        """
        if self._resolvers is None:
            dnsResolver = client.Resolver(
                resolv=None if self.servers else "/etc/resolv.conf",
                servers=self.servers or None,
                reactor=self.reactor,
            )
            self._resolvers = (hosts.Resolver(self.hostsFile), dnsResolver)
        return self._resolvers

    def resolved(self, name):
        """
        The L{Resolved} entry of host name C{name}.
        """
        entry = self.names.get(name)
        if entry is None:
            entry = self.names[name] = Resolved(self, name)
        return entry

    def query(self, name):
        """
        Look C{name} up (A and AAAA); a Deferred firing with
        C{(addresses, ttl)}, the TTL clamped, or failing when nothing
        answers any address.
        """
        hostsResolver, dnsResolver = self.resolvers()
        d = self._both(hostsResolver, name, None)

        def fromDNS(reason):
            return self._both(dnsResolver, name, self.timeout)

        d.addErrback(fromDNS)
        return d

    def _both(self, resolver, name, timeout):
        kwargs = {} if timeout is None else {"timeout": timeout}
        lookups = [resolver.lookupAddress(name, **kwargs), resolver.lookupIPV6Address(name, **kwargs)]
        d = defer.DeferredList(lookups, consumeErrors=True)
        d.addCallback(self._merge, name)
        return d

    def _merge(self, results, name):
        addresses, ttls, errors = [], [], []
        for ok, result in results:
            if not ok:
                errors.append(result)
                continue
            for record in result[0]:
                if record.type in (dns.A, dns.AAAA):
                    address = record.payload.dottedQuad() if record.type == dns.A else _ipv6(record.payload)
                    if address not in addresses:
                        addresses.append(address)
                        ttls.append(record.ttl)
        if not addresses:
            if errors:
                errors[0].raiseException()
            raise DNSLookupError(f"{name} has no A or AAAA record")
        ttl = min(max(min(ttls), self.minTTL), self.maxTTL)
        return tuple(addresses), float(ttl)

    def stopService(self):
        Service.stopService(self)
        for entry in self.names.values():
            entry.stop()


def _ipv6(payload):
    return socket.inet_ntop(socket.AF_INET6, payload.address)


class _Pending:
    """
    A connection attempt waiting for a name's first answer, shaped like a
    connector (C{stopConnecting}).
    """

    __slots__ = ("_deferred", "_connector")

    def __init__(self):
        self._deferred = None
        self._connector = None

    def stopConnecting(self):
        if self._connector is not None:
            self._connector.stopConnecting()
        elif self._deferred is not None and not self._deferred.called:
            self._deferred.cancel()


@implementer(IConnector)
class ResolvingConnector:
    """
    Connects to C{HOST:PORT} where C{HOST} is a name: to the address
    C{index} of its current answer (the failover asks for the next index
    before it gives up on the host; L{addressCount} says how many there
    are).
    """

    def __init__(self, description, host, port, resolved):
        self.description = description
        self.host = host
        self.port = port
        self.resolved = resolved

    @property
    def addresses(self):
        """
        The addresses in use now (empty before the first answer).
        """
        return self.resolved.addresses

    @property
    def addressCount(self):
        """
        How many addresses an attempt may try, one after the other.
        """
        return max(len(self.resolved.addresses), 1)

    def connect(self, reactor, factory, index=0):
        addresses = self.resolved.addresses
        if addresses:
            return reactor.connectTCP(addresses[index % len(addresses)], self.port, factory, timeout=None)
        pending = _Pending()
        d = pending._deferred = self.resolved.current()

        def resolved(addresses):
            pending._deferred = None
            pending._connector = reactor.connectTCP(addresses[index % len(addresses)], self.port, factory, timeout=None)

        def failed(reason):
            pending._deferred = None
            if not reason.check(defer.CancelledError):
                factory.clientConnectionFailed(pending, reason)

        d.addCallbacks(resolved, failed)
        return pending


def isAddressLiteral(host):
    """
    True when C{host} is an IP address, not a name.
    """
    return isIPAddress(host) or isIPv6Address(host)
