"""
The heartbeat listener: backends tell the balancer they are alive (and
whether to drain) in signed UDP datagrams.
"""

import collections

from twisted.application.service import Service
from twisted.internet.protocol import DatagramProtocol
from twisted.logger import Logger

from txlb._ratelimit import RateLimiter
from txlb.address import formatAddress
from txlb.backend import DOWN, DRAINING, MAINT, UP
from txlb.errors import ConfigError
from txlb.health._observer import cancelTimer
from txlb.health._wire import BadDatagram, ReplayGuard, decode

DEFAULT_DEAD_AFTER = 3.0
DEFAULT_LEAVE_AFTER = 60.0
DEFAULT_MAX_AGE = 10.0
DROP_KINDS = ("oversized", "garbled", "unsigned", "stale", "replayed", "unknown")


def parseUDPEndpoint(description):
    """
    Read C{udp:PORT} or C{udp:PORT:interface=ADDR} (Twisted has no UDP
    server endpoint strings) into C{(port, interface)}.

    @raise ConfigError: for anything else.
    """
    parts = description.split(":") if isinstance(description, str) else []
    if len(parts) < 2 or parts[0] != "udp" or not parts[1].isdigit() or int(parts[1]) > 65535:
        raise ConfigError(
            f"heartbeat endpoint {description!r} must be written udp:PORT[:interface=ADDR]"
        )
    rest = ":".join(parts[2:])
    interface = ""
    if rest:
        key, eq, interface = rest.partition("=")
        if key != "interface" or not eq or not interface:
            raise ConfigError(
                f"heartbeat endpoint {description!r}: only interface=ADDR may follow the port"
            )
    return int(parts[1]), interface


class _Receiver(DatagramProtocol):
    noisy = False

    def __init__(self, listener):
        self.listener = listener

    def datagramReceived(self, datagram, address):
        self.listener.received(datagram, address)


class HeartbeatListener(Service):
    """
    Receives heartbeats for one pool on a UDP endpoint.

    A host that beats is kept up, or draining while it asks to drain; a
    host silent for C{deadAfter} seconds goes down until it beats again.
    With C{register}, a signed beat from an unknown name adds that host
    (made by C{makeHost(name, address, weight)}); it is removed after
    C{leaveAfter} seconds of silence. Bad datagrams are dropped, counted
    in L{dropped} by kind, and logged one line per burst.

    The service is named C{heartbeat:GROUP}; L{lastBeat} tells the admin.

    @ivar forward: None, or called with C{(datagram, source)} for each beat
        accepted (worker 0 passes them on to the other workers).
    @ivar bind: False in a worker process other than worker 0: it does not
        listen, and hears the beats worker 0 forwards through L{received}.
    """

    log = Logger()

    def __init__(
        self,
        pool,
        reactor,
        listen,
        key,
        makeHost,
        clock=None,
        deadAfter=DEFAULT_DEAD_AFTER,
        register=False,
        leaveAfter=DEFAULT_LEAVE_AFTER,
        maxAge=DEFAULT_MAX_AGE,
    ):
        self.pool = pool
        self.reactor = reactor
        self.clock = clock if clock is not None else reactor
        self.listen = listen
        self.port, self.interface = parseUDPEndpoint(listen)
        self.key = key
        self.makeHost = makeHost
        self.deadAfter = deadAfter
        self.register = register
        self.leaveAfter = leaveAfter
        self.guard = ReplayGuard(maxAge)
        self.dropped = collections.Counter()
        self.listeningPort = None
        self._beats = {}
        self._timers = {}
        self._moved = set()
        self._registered = set()
        self._dropLog = RateLimiter(self.clock)
        self.forward = None
        self.bind = True
        self.setName(f"heartbeat:{pool.name}")

    def lastBeat(self, name):
        """
        C{(beat, receivedAt)} of the last good heartbeat from host C{name},
        or None.
        """
        return self._beats.get(name)

    def startService(self):
        Service.startService(self)
        if not self.bind:
            return
        self.listeningPort = self.reactor.listenUDP(
            self.port, _Receiver(self), interface=self.interface
        )
        self.log.info(
            "group {group}: heartbeats on udp {address}",
            group=self.pool.name,
            address=formatAddress(self.listeningPort.getHost()),
        )

    def stopService(self):
        Service.stopService(self)
        for timer in self._timers.values():
            cancelTimer(timer)
        self._timers.clear()
        port, self.listeningPort = self.listeningPort, None
        if port is not None:
            return port.stopListening()

    # Receiving

    def received(self, datagram, source):
        """
        Handle one datagram from C{source} (C{(host, port)}).
        """
        try:
            beat = self.guard.admit(decode(datagram, self.key), self.clock.seconds())
            self._accept(beat)
        except BadDatagram as e:
            self._drop(e, source)
            return
        if self.forward is not None:
            self.forward(datagram, source)

    def _drop(self, error, source):
        self.dropped[error.kind] += 1
        suppressed = self._dropLog.allow()
        if suppressed is None:
            return
        more = f" ({suppressed} more dropped since the last report)" if suppressed else ""
        self.log.warn(
            "group {group}: dropped heartbeat from {source}: {kind}: {why}{more}",
            group=self.pool.name,
            source=f"{source[0]}:{source[1]}",
            kind=error.kind,
            why=str(error),
            more=more,
        )

    def _accept(self, beat):
        pool = self.pool
        host = pool.hosts.get(beat.name)
        if host is None:
            host = self._join(beat)
        self._beats[beat.name] = (beat, self.clock.seconds())
        self._watch(beat.name)
        if beat.weight != host.weight:
            pool.setWeight(beat.name, beat.weight)
        # Only undo what heartbeats did: a host that checks, ejection or the
        # admin took out stays out.
        if host.state == MAINT or (host.state != UP and beat.name not in self._moved):
            return
        if beat.state == "drain" and host.state != DRAINING:
            self._moved.add(beat.name)
            pool.setState(host, DRAINING, "heartbeat asks to drain")
        elif beat.state == "up" and host.state != UP:
            self._moved.discard(beat.name)
            pool.setState(host, UP, "heartbeat")

    def _join(self, beat):
        if not self.register:
            raise BadDatagram("unknown", f"no host named {beat.name!r} and registration is off")
        try:
            host = self.makeHost(beat.name, beat.address, beat.weight)
        except ConfigError as e:
            raise BadDatagram("garbled", str(e)) from None
        self.pool.addHost(host)
        self._registered.add(beat.name)
        self.log.info(
            "group {group}: host {host} ({address}) joined by heartbeat",
            group=self.pool.name,
            host=beat.name,
            address=beat.address,
        )
        return host

    # Silence

    def _watch(self, name):
        timer = self._timers.get(name)
        if timer is not None and timer.active():
            timer.reset(self.deadAfter)
        else:
            self._timers[name] = self.clock.callLater(self.deadAfter, self._dead, name)

    def _dead(self, name):
        """
        C{name} has been silent for C{deadAfter}: take it down (again, should
        someone have brought it up meanwhile), let a self-registered host
        leave after C{leaveAfter}, and look again after C{deadAfter}.
        """
        host = self.pool.hosts.get(name)
        if host is None:
            self._timers.pop(name, None)
            return
        if host.state in (UP, DRAINING):
            self._moved.add(name)
            self.pool.setState(host, DOWN, f"no heartbeat for {self.deadAfter:g} s")
        silent = self.clock.seconds() - self._beats[name][1]
        if name in self._registered:
            if silent >= self.leaveAfter:
                self._leave(name)
                return
            delay = min(self.deadAfter, self.leaveAfter - silent)
        else:
            delay = self.deadAfter
        self._timers[name] = self.clock.callLater(delay, self._dead, name)

    def _leave(self, name):
        self._timers.pop(name, None)
        self._registered.discard(name)
        self._moved.discard(name)
        self._beats.pop(name, None)
        if name in self.pool.hosts:
            self.pool.removeHost(name)
            self.log.info(
                "group {group}: host {host} left after {seconds:g} s without a heartbeat",
                group=self.pool.name,
                host=name,
                seconds=self.leaveAfter,
            )
