"""
The heartbeat listener and sender, on a task.Clock and a memory reactor.
"""

import itertools

from twisted.internet.address import IPv4Address
from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import SynchronousTestCase

from tests.test_health_checker import makePool
from txlb.backend import Backend
from txlb.errors import ConfigError
from txlb.health import Beat, HeartbeatListener, HeartbeatSender, decode, encode, parseUDPEndpoint
from txlb.health._wire import ReplayMemory

KEY = b"0123456789abcdef"
SOURCE = ("127.0.0.1", 40000)


def makeHost(name, address, weight):
    if address == "bad":
        raise ConfigError("backend address 'bad' is not HOST:PORT")
    return Backend(name, address, None, weight=weight)


class _RecordingPort:
    def __init__(self, port, interface):
        self.port = port
        self.interface = interface
        self.sent = []
        self.stopped = False

    def getHost(self):
        return IPv4Address("UDP", self.interface or "0.0.0.0", self.port)

    def write(self, datagram, address):
        self.sent.append((datagram, address))

    def stopListening(self):
        self.stopped = True


class _Reactor(MemoryReactorClock):
    def listenUDP(self, port, protocol, interface="", maxPacketSize=8192):
        self.port = _RecordingPort(port, interface)
        return self.port


class ListenerTests(SynchronousTestCase):
    def setUp(self):
        self.reactor = _Reactor()
        self.reactor.advance(1000.0)
        self.pool = makePool(self.reactor, ["a"])
        self.listener = self.listen()
        self.nonces = (f"{i:024d}" for i in itertools.count())

    def listen(self, **kwargs):
        listener = HeartbeatListener(
            self.pool, self.reactor, "udp:9999:interface=127.0.0.1", KEY, makeHost,
            deadAfter=3.0, leaveAfter=10.0, **{"replay": ReplayMemory(), **kwargs},
        )
        listener.startService()
        self.addCleanup(listener.stopService)
        return listener

    def send(self, name="a", state="up", weight=1, address="127.0.0.1:8081", key=KEY, to="127.0.0.1:9999",
             **changes):
        beat = Beat(name, address, weight, 0.2, state, self.reactor.seconds(), next(self.nonces), to)
        datagram = encode(beat, key)
        self.listener.received(datagram, SOURCE)
        return datagram

    def test_listens(self):
        """
        The listener binds its UDP endpoint and is named heartbeat:GROUP.
        """
        self.assertEqual((self.reactor.port.port, self.reactor.port.interface), (9999, "127.0.0.1"))
        self.assertEqual(self.listener.name, "heartbeat:g")

    def test_deadAfter(self):
        """
        A host that stops beating goes down after deadAfter seconds and comes
        back with its next heartbeat.
        """
        a = self.pool.hosts["a"]
        self.send()
        self.reactor.advance(2.5)
        self.send()
        self.reactor.advance(2.9)
        self.assertEqual(a.state, "up")
        self.reactor.advance(0.2)
        self.assertEqual(a.state, "down")
        self.assertEqual(a.history[-1].reason, "no heartbeat for 3 s")
        self.send()
        self.assertEqual(a.state, "up")
        self.assertEqual(a.history[-1].reason, "heartbeat")

    def test_drain(self):
        """
        A drain heartbeat moves the host to draining; an up one brings it
        back; a draining host that falls silent goes down and beats back up.
        """
        a = self.pool.hosts["a"]
        self.send(state="drain")
        self.assertEqual(a.state, "draining")
        self.send(state="up")
        self.assertEqual(a.state, "up")
        self.send(state="drain")
        self.reactor.advance(3.0)
        self.assertEqual(a.state, "down")
        self.send(state="drain")
        self.assertEqual(a.state, "draining")
        self.send()
        self.assertEqual(a.state, "up")

    def test_weight(self):
        """
        The weight a heartbeat carries becomes the host's weight.
        """
        self.send(weight=5)
        self.assertEqual(self.pool.hosts["a"].weight, 5)

    def test_othersDecisionsKept(self):
        """
        A heartbeat does not bring up a host someone else took down, nor one
        in maintenance.
        """
        a = self.pool.hosts["a"]
        self.pool.setState(a, "down", "2 checks failed")
        self.send()
        self.assertEqual(a.state, "down")
        self.send(state="drain")
        self.assertEqual(a.state, "down")
        self.send()
        self.assertEqual(a.state, "down")
        self.pool.setState(a, "maint", "admin")
        self.send(state="drain")
        self.assertEqual(a.state, "maint")

    def test_badDatagramsChangeNothing(self):
        """
        Garbage, wrongly signed, replayed, stale and unknown heartbeats are
        dropped and counted; the pool does not change.
        """
        datagram = self.send()
        history = list(self.pool.hosts["a"].history)
        self.listener.received(b"garbage", SOURCE)
        self.listener.received(b"x" * 5000, SOURCE)
        self.send(key=b"wrong key 0123456")
        self.listener.received(datagram, SOURCE)
        stale = Beat("a", "x", 1, 0.0, "drain", self.reactor.seconds() - 60, "9" * 20, "127.0.0.1:9999")
        self.listener.received(encode(stale, KEY), SOURCE)
        self.send(name="stranger")
        self.assertEqual(
            dict(self.listener.dropped),
            {"garbled": 1, "oversized": 1, "unsigned": 1, "replayed": 1, "stale": 1, "unknown": 1},
        )
        self.assertEqual(list(self.pool.hosts), ["a"])
        self.assertEqual(list(self.pool.hosts["a"].history), history)

    def test_destinationSigned(self):
        """
        A beat signed for another address (another port, another interface,
        or none at all) is dropped as misdirected, even correctly signed;
        one signed for the listener's address is accepted.
        """
        for to in ["127.0.0.1:9998", "127.0.0.2:9999", "", "[::1]:9999"]:
            self.send(to=to, state="drain")
        self.assertEqual(dict(self.listener.dropped), {"misdirected": 4})
        self.assertEqual(self.pool.hosts["a"].state, "up")
        self.send(state="drain")
        self.assertEqual(self.pool.hosts["a"].state, "draining")

    def test_misdirectedBeforeSignature(self):
        """
        Junk with the right form but not naming the listener's address is
        dropped before any HMAC is computed (it is misdirected, not
        unsigned), so a flood of it costs little.
        """
        junk = b"TXLB-HB2 " + b"0" * 64 + b' {"to":"10.9.9.9:1"}'
        self.listener.received(junk, SOURCE)
        self.listener.received(junk.replace(b"10.9.9.9:1", b"127.0.0.1:9999"), SOURCE)
        self.assertEqual(dict(self.listener.dropped), {"misdirected": 1, "unsigned": 1})

    def test_oldAgentRefused(self):
        """
        A datagram of the older format (TXLB-HB1, destination not signed) is
        dropped with a sentence saying to upgrade the agent.
        """
        from txlb.health._wire import BadDatagram, decode as decodeBeat

        old = b"TXLB-HB1 " + b"0" * 64 + b" {}"
        e = self.assertRaises(BadDatagram, decodeBeat, old, KEY)
        self.assertIn("upgrade txlb on the backend", str(e))

    def test_replayAcrossListeners(self):
        """
        Listeners sharing a key share their replay memory: a beat accepted
        by one is refused by the other, even when the second allows older
        beats (the memory keeps nonces for the longest maxAge).
        """
        memory = ReplayMemory()
        other = makePool(self.reactor, ["a"])
        first = HeartbeatListener(self.pool, self.reactor, "udp:9999", KEY, makeHost, replay=memory, maxAge=5)
        second = HeartbeatListener(other, self.reactor, "udp:9998", KEY, makeHost, replay=memory, maxAge=30)
        for listener in (first, second):
            listener.startService()
            self.addCleanup(listener.stopService)
        # The destination check aside (it has its own test), only the memory stops it.
        first._bound = second._bound = None
        beat = encode(Beat("a", "127.0.0.1:8081", 1, 0.0, "drain", self.reactor.seconds(), "7" * 24,
                           "127.0.0.1:9999"), KEY)
        first.received(beat, SOURCE)
        self.reactor.advance(8)
        second.received(beat, SOURCE)
        self.assertEqual(dict(first.dropped), {})
        self.assertEqual(dict(second.dropped), {"replayed": 1})

    def test_wildcardListener(self):
        """
        On a wildcard interface, a beat signed for any of this machine's
        addresses with the bound port (the port the system chose for port
        0) is accepted; one for another machine's address is not.
        """
        self.reactor.port = None
        listener = HeartbeatListener(
            self.pool, self.reactor, "udp:0", KEY, makeHost, replay=ReplayMemory(),
            isLocal=lambda host: host in ("127.0.0.1", "10.1.2.3"),
        )
        listener.startService()
        self.addCleanup(listener.stopService)
        self.reactor.port.port = 4321
        listener._bound = (listener._bound[0], 4321)
        self.listener = listener
        self.send(to="192.0.2.1:4321")
        self.send(to="10.1.2.3:4322")
        self.assertEqual(dict(listener.dropped), {"misdirected": 2})
        self.send(to="10.1.2.3:4321", state="drain")
        self.assertEqual(self.pool.hosts["a"].state, "draining")

    def test_register(self):
        """
        With registration, a signed heartbeat from an unknown name adds it to
        the group; it leaves after leaveAfter seconds of silence.
        """
        self.listener.register = True
        self.send(name="new", address="127.0.0.1:9000", weight=3)
        host = self.pool.hosts["new"]
        self.assertEqual((host.address, host.weight, host.state), ("127.0.0.1:9000", 3, "up"))
        self.assertEqual(self.listener.lastBeat("new")[1], self.reactor.seconds())
        self.reactor.advance(3.0)
        self.assertEqual(host.state, "down")
        self.reactor.advance(7.0)
        self.assertNotIn("new", self.pool.hosts)
        self.assertIsNone(self.listener.lastBeat("new"))

    def test_registerBadAddress(self):
        """
        A joining host with an unusable address is dropped, not added.
        """
        self.listener.register = True
        self.send(name="new", address="bad")
        self.assertNotIn("new", self.pool.hosts)
        self.assertEqual(self.listener.dropped["garbled"], 1)

    def test_silentHostKeptDown(self):
        """
        A silent host that someone else brings back (an ejection ending)
        is taken down again within deadAfter.
        """
        a = self.pool.hosts["a"]
        self.send()
        self.reactor.advance(3.0)
        self.pool.setState(a, "up", "ejection time over")
        self.reactor.advance(3.0)
        self.assertEqual(a.state, "down")

    def test_stop(self):
        """
        Stopping the listener closes its port and leaves no timer.
        """
        self.send()
        self.listener.stopService()
        self.assertTrue(self.reactor.port.stopped)
        self.assertEqual(self.reactor.getDelayedCalls(), [])


class EndpointTests(SynchronousTestCase):
    def test_parse(self):
        """
        udp:PORT and udp:PORT:interface=ADDR are read; anything else is one
        sentence.
        """
        self.assertEqual(parseUDPEndpoint("udp:9999"), (9999, ""))
        self.assertEqual(parseUDPEndpoint("udp:9999:interface=::1"), (9999, "::1"))
        for bad in ["tcp:9999", "udp:x", "udp:70000", "udp:1:colour=red", 5]:
            self.assertRaisesRegex(ConfigError, "heartbeat endpoint", parseUDPEndpoint, bad)


class SenderTests(SynchronousTestCase):
    def test_sends(self):
        """
        The sender sends a signed heartbeat at once and every `every`
        seconds, with fresh nonces and the clock's time.
        """
        reactor = _Reactor()
        sender = HeartbeatSender(
            reactor, ("127.0.0.1", 9999), KEY, "a", "127.0.0.1:8081",
            weight=2, every=0.5, load=lambda: 0.25,
        )
        sender.startService()
        reactor.advance(0.5)
        reactor.advance(0.5)
        beats = [decode(d, KEY) for d, to in reactor.port.sent]
        self.assertEqual(len(beats), 3)
        self.assertEqual({to for d, to in reactor.port.sent}, {("127.0.0.1", 9999)})
        self.assertEqual([b.time for b in beats], [0.0, 0.5, 1.0])
        self.assertEqual(len({b.nonce for b in beats}), 3)
        self.assertEqual((beats[0].weight, beats[0].load, beats[0].state), (2, 0.25, "up"))
        sender.drain()
        self.assertEqual(decode(reactor.port.sent[-1][0], KEY).state, "drain")
        sender.resume()
        self.assertEqual(decode(reactor.port.sent[-1][0], KEY).state, "up")
        port = reactor.port
        sender.stopService()
        self.assertTrue(port.stopped)
        self.assertEqual(reactor.getDelayedCalls(), [])
        self.assertEqual(sender.sent, 5)

    def test_badValues(self):
        """
        A bad name or weight is one sentence when the sender is made.
        """
        self.assertRaisesRegex(
            ConfigError, "heartbeat for ''", HeartbeatSender,
            _Reactor(), ("127.0.0.1", 1), KEY, "", "127.0.0.1:8081",
        )
        self.assertRaisesRegex(
            ConfigError, "weight", HeartbeatSender,
            _Reactor(), ("127.0.0.1", 1), KEY, "a", "127.0.0.1:8081", weight=-1,
        )
