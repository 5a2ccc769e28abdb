"""
Sending heartbeats: the Python API a Twisted backend uses in its own
process, and what C{txlb heartbeat} runs.

    from txlb.health import HeartbeatSender, readKey

    sender = HeartbeatSender(reactor, ("10.0.0.1", 9999), readKey("/etc/txlb/hb.key"),
                             name="app1", address="10.0.0.5:8080")
    sender.setServiceParent(application)   # or sender.startService()
    ...
    sender.drain()                         # before a restart
"""

import os
import secrets

from twisted.application.service import Service
from twisted.internet.protocol import DatagramProtocol
from twisted.internet.task import LoopingCall
from twisted.logger import Logger

from txlb._ratelimit import RateLimiter
from txlb.errors import ConfigError
from txlb.health._wire import BadDatagram, Beat, destination, encode

DEFAULT_EVERY = 1.0


def systemLoad():
    """
    The one-minute load average divided by the number of CPUs, or 0.0
    where the system does not say.
    """
    try:
        return os.getloadavg()[0] / (os.cpu_count() or 1)
    except (AttributeError, OSError):
        return 0.0


def _nonce():
    return secrets.token_hex(12)


class HeartbeatSender(Service):
    """
    Sends a signed heartbeat to C{to} (an C{(IP, port)} pair: the
    listener's own address, which each beat signs) every C{every} seconds
    while running, and one at once on L{drain} and L{resume}.

    @param load: a no-argument callable giving the load to report.
    @param nonce: a no-argument callable giving a fresh nonce (16-64
        characters) per heartbeat.
    """

    log = Logger()

    def __init__(
        self,
        reactor,
        to,
        key,
        name,
        address,
        weight=1,
        every=DEFAULT_EVERY,
        drain=False,
        load=systemLoad,
        clock=None,
        nonce=_nonce,
    ):
        self.reactor = reactor
        self.clock = clock if clock is not None else reactor
        self.to = to
        self.key = key
        self.name = name
        self.address = address
        self.weight = weight
        self.every = every
        self.state = "drain" if drain else "up"
        self.load = load
        self.nonce = nonce
        self.sent = 0
        self._port = None
        self._loop = None
        self._errorLog = RateLimiter(self.clock, 10.0)
        try:
            Beat(name, address, weight, 0.0, self.state, 0.0, "x" * 16)
        except BadDatagram as e:
            raise ConfigError(f"heartbeat for {name!r}: {e}") from None

    def startService(self):
        Service.startService(self)
        interface = "::" if ":" in self.to[0] else ""
        self._port = self.reactor.listenUDP(0, DatagramProtocol(), interface=interface)
        self._loop = LoopingCall(self.send)
        self._loop.clock = self.clock
        self._loop.start(self.every, now=True)

    def stopService(self):
        Service.stopService(self)
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        port, self._port = self._port, None
        if port is not None:
            return port.stopListening()

    def drain(self):
        """
        Ask the balancer to send no new clients; existing ones finish.
        """
        self.state = "drain"
        self.send()

    def resume(self):
        """
        Ask the balancer to send new clients again.
        """
        self.state = "up"
        self.send()

    def send(self):
        """
        Send one heartbeat now (does nothing while stopped).
        """
        if self._port is None:
            return
        beat = Beat(
            self.name,
            self.address,
            self.weight,
            float(self.load()),
            self.state,
            self.clock.seconds(),
            self.nonce(),
            destination(*self.to),
        )
        try:
            self._port.write(encode(beat, self.key), self.to)
        except OSError as e:
            if self._errorLog.allow() is not None:
                self.log.warn("heartbeat to {to} not sent: {why}", to=self.to, why=e)
            return
        self.sent += 1
