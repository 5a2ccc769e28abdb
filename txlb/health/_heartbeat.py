"""
The heartbeat listener: backends tell the balancer they are alive (and
whether to drain) in signed UDP datagrams.
"""

import collections
import ipaddress
import socket

from twisted.application.service import Service
from twisted.internet.protocol import DatagramProtocol
from twisted.logger import Logger

from txlb._ratelimit import RateLimiter
from txlb.address import formatAddress
from txlb.backend import DOWN, DRAINING, MAINT, UP
from txlb.errors import ConfigError
from txlb.health._observer import cancelTimer
from txlb.health._wire import BadDatagram, ReplayMemory, decode, destination, destinationField

DEFAULT_DEAD_AFTER = 3.0
DEFAULT_LEAVE_AFTER = 60.0
DEFAULT_MAX_AGE = 10.0
DROP_KINDS = ("oversized", "garbled", "misdirected", "unsigned", "stale", "replayed", "unknown")
#: The receive buffer asked for, so that a burst of junk does not push
#: valid beats out (the system may give less).
RECEIVE_BUFFER = 4 * 2**20
#: Nonces are remembered per key for the whole process.
REPLAY = ReplayMemory()


def isLocalAddress(host):
    """
    True when C{host} (an IP address) is one of this machine's: binding a
    UDP socket to it works.
    """
    try:
        family = socket.AF_INET6 if ipaddress.ip_address(host).version == 6 else socket.AF_INET
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.bind((host, 0))
    except (ValueError, OSError):
        return False
    return True


def _address(text):
    host, _, port = text.rpartition(":")
    try:
        return ipaddress.ip_address(host.strip("[]")), int(port)
    except ValueError:
        return None


def keyWarning(text):
    """
    Log the warning about a heartbeat key file every user may read.
    """
    HeartbeatListener.log.warn("{warning}", warning=text)


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
        listen, and hears the beats worker 0 forwards through L{received}
        (worker 0 checked their destination).

    A beat must be signed for the address the listener is bound to (its
    C{to}): the interface and port it got (port 0 included); on a wildcard
    interface, any of this machine's addresses with that port. Each nonce
    is accepted once per key in the whole process (C{replay}, one
    L{ReplayMemory} for all listeners by default).
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
        replay=None,
        isLocal=isLocalAddress,
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
        self.maxAge = maxAge
        self.guard = (replay if replay is not None else REPLAY).guardFor(key, maxAge)
        self.isLocal = isLocal
        self._to = None
        self._bound = None
        self._local = {}
        self.dropped = collections.Counter()
        self.listeningPort = None
        self._beats = {}
        self._timers = {}
        self._moved = set()
        self._registered = set()
        self._dropLog = RateLimiter(self.clock)
        self.forward = None
        self.bind = True
        # What binds the UDP socket instead of reactor.listenUDP (same
        # signature): a handover (txlb.handover) adopts an inherited one.
        self.listenUDP = None
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
        self.listeningPort = (self.listenUDP or self.reactor.listenUDP)(
            self.port, _Receiver(self), interface=self.interface
        )
        bound = self.listeningPort.getHost()
        host = ipaddress.ip_address(bound.host)
        self._bound = (host, bound.port)
        self._to = None if host.is_unspecified else destinationField(destination(bound.host, bound.port))
        sock = getattr(self.listeningPort, "socket", None)
        if sock is not None:
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
            except OSError:
                pass
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
            beat = decode(datagram, self.key, self._to)
            self._checkDestination(beat)
            beat = self.guard.admit(beat, self.clock.seconds(), self.maxAge)
            self._accept(beat)
        except BadDatagram as e:
            self._drop(e, source)
            return
        if self.forward is not None:
            self.forward(datagram, source)

    def _checkDestination(self, beat):
        if self._bound is None:
            return
        to = _address(beat.to)
        host, port = self._bound
        if to is not None and to[1] == port:
            if not host.is_unspecified:
                if to[0] == host:
                    return
            elif self._isLocal(to[0]):
                return
        raise BadDatagram("misdirected", f"signed for {beat.to or 'no address'}, not for this listener")

    def _isLocal(self, ip):
        local = self._local.get(ip)
        if local is None:
            if len(self._local) >= 256:
                self._local.clear()
            local = self._local[ip] = self.isLocal(str(ip))
        return local

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
