"""
Unit tests for the relay on memory transports and a fake clock: failover
order, connect timeouts, buffering, backpressure, half-close, accounting.
"""

from twisted.internet import error
from twisted.internet.address import IPv4Address
from twisted.internet.error import ConnectionAborted, ConnectionDone, ConnectionLost, ConnectionRefusedError
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from txlb.builder import Builder
from txlb.config import Group, Host, Service


class HalfCloseTransport(StringTransport):
    """
    A memory TCP transport that also records half-closes and TCP_NODELAY.
    """

    writeClosed = False
    noDelay = False
    aborted = False

    def abortConnection(self):
        self.aborted = True
        StringTransport.abortConnection(self)

    def loseWriteConnection(self):
        self.writeClosed = True

    def setTcpNoDelay(self, enabled):
        self.noDelay = enabled


def makeService(hosts, reactor, **options):
    spec = Service(
        "web",
        groups=[Group("g", hosts=[Host(h, f"127.0.0.{i + 1}:80{i}") for i, h in enumerate(hosts)])],
        **options,
    )
    return Builder(reactor).service(spec)


class RelayCase(SynchronousTestCase):
    def setUp(self):
        self.reactor = MemoryReactorClock()

    def service(self, hosts=("a", "b", "c"), **options):
        service = makeService(hosts, self.reactor, **options)
        self.pool = service.pool
        self.hosts = self.pool.hosts
        return service

    def accept(self, service, port=5000):
        client = service.factory.buildProtocol(IPv4Address("TCP", "10.0.0.1", port))
        transport = HalfCloseTransport(peerAddress=IPv4Address("TCP", "10.0.0.1", port))
        client.makeConnection(transport)
        return client, transport

    def lastAttempt(self):
        host, port, factory, timeout, bindAddress = self.reactor.tcpClients[-1]
        return host, factory

    def connectBackend(self):
        """
        Let the newest connection attempt succeed; return the backend transport.
        """
        _, factory = self.lastAttempt()
        protocol = factory.buildProtocol(None)
        transport = HalfCloseTransport()
        protocol.makeConnection(transport)
        return protocol, transport

    def refuseBackend(self):
        _, factory = self.lastAttempt()
        factory.clientConnectionFailed(None, Failure(ConnectionRefusedError()))


class FailoverTests(RelayCase):
    def test_failsOverInSchedulerOrder(self):
        """
        A refused connection is retried on the next host the scheduler picks,
        never on one already tried; the client never notices.
        """
        service = self.service()
        client, transport = self.accept(service)
        self.assertEqual(self.lastAttempt()[0], "127.0.0.1")
        self.refuseBackend()
        self.assertEqual(self.lastAttempt()[0], "127.0.0.2")
        self.refuseBackend()
        self.assertEqual(self.lastAttempt()[0], "127.0.0.3")
        self.connectBackend()
        self.assertFalse(transport.disconnecting)
        self.assertEqual([h.failed for h in self.hosts.values()], [1, 1, 0])
        self.assertEqual([h.open for h in self.hosts.values()], [0, 0, 1])

    def test_givesUpAfterMaxTries(self):
        """
        After maxTries refused attempts the client is closed and counted as
        unreachable; no host keeps an open count.
        """
        service = self.service(maxTries=2)
        client, transport = self.accept(service)
        self.refuseBackend()
        self.refuseBackend()
        self.assertEqual(len(self.reactor.tcpClients), 2)
        self.assertTrue(transport.disconnecting)
        self.assertEqual(service.unreachable, 1)
        self.assertEqual([h.open for h in self.hosts.values()], [0, 0, 0])

    def test_connectTimeout(self):
        """
        A host that does not answer within connectTimeout is abandoned and
        the next one tried; the failure says it timed out.
        """
        service = self.service(connectTimeout=2.0)
        self.accept(service)
        self.reactor.advance(1.9)
        self.assertEqual(len(self.reactor.tcpClients), 1)
        self.reactor.advance(0.2)
        self.assertEqual(len(self.reactor.tcpClients), 2)
        first = self.hosts["a"]
        self.assertEqual(first.lastFailure.reason, "connect timed out")
        self.assertEqual(first.open, 0)
        self.assertEqual(self.reactor.connectors[0].stoppedConnecting, True)

    def test_refusedHostStaysInCirculation(self):
        """
        A refused connection is reported to the pool (counted) but does not
        take the host out for everybody.
        """
        service = self.service(hosts=("a", "b"))
        self.accept(service)
        self.refuseBackend()
        self.connectBackend()
        self.assertEqual(self.hosts["a"].state, "up")
        self.assertEqual(self.hosts["a"].consecutiveFailures, 1)

    def test_clientLeavesWhileConnecting(self):
        """
        A client that goes away while its host is being connected to stops
        the attempt and releases the host exactly once.
        """
        service = self.service()
        client, transport = self.accept(service)
        client.connectionLost(Failure(ConnectionDone()))
        self.assertTrue(self.reactor.connectors[0].stoppedConnecting)
        self.assertEqual(self.hosts["a"].open, 0)
        self.assertEqual(self.hosts["a"].failed, 0)
        self.reactor.advance(10)
        self.assertEqual(len(self.reactor.tcpClients), 1)


class StreamTests(RelayCase):
    def test_bufferedWhileConnecting(self):
        """
        Bytes sent before the host answers are kept, then delivered in order.
        """
        service = self.service()
        client, _ = self.accept(service)
        client.dataReceived(b"hello ")
        client.dataReceived(b"world")
        _, backend = self.connectBackend()
        self.assertEqual(backend.value(), b"hello world")
        self.assertEqual(self.hosts["a"].bytesIn, 11)

    def test_bufferBoundPausesClient(self):
        """
        Past bufferSize kept bytes, reading from the client pauses; it
        resumes once the host is connected.
        """
        service = self.service(bufferSize=10)
        client, transport = self.accept(service)
        client.dataReceived(b"12345")
        self.assertEqual(transport.producerState, "producing")
        client.dataReceived(b"67890")
        self.assertEqual(transport.producerState, "paused")
        self.connectBackend()
        self.assertEqual(transport.producerState, "producing")

    def test_producersBothWays(self):
        """
        Once connected, each transport is the other's streaming producer, so
        a slow reader on either side pauses the other; TCP_NODELAY is set on
        both.
        """
        service = self.service()
        client, transport = self.accept(service)
        _, backend = self.connectBackend()
        self.assertIs(transport.producer, backend)
        self.assertIs(backend.producer, transport)
        self.assertTrue(transport.streaming and backend.streaming)
        self.assertTrue(transport.noDelay and backend.noDelay)

    def test_relaysBothWays(self):
        """
        Bytes flow both ways and are counted per host.
        """
        service = self.service()
        client, transport = self.accept(service)
        protocol, backend = self.connectBackend()
        client.dataReceived(b"ping")
        protocol.dataReceived(b"pong!")
        self.assertEqual(backend.value(), b"ping")
        self.assertEqual(transport.value(), b"pong!")
        self.assertEqual((self.hosts["a"].bytesIn, self.hosts["a"].bytesOut), (4, 5))

    def test_clientHalfClose(self):
        """
        The client's EOF becomes the host's EOF; the reply still reaches the
        client.
        """
        service = self.service()
        client, transport = self.accept(service)
        protocol, backend = self.connectBackend()
        client.readConnectionLost()
        self.assertTrue(backend.writeClosed)
        protocol.dataReceived(b"reply")
        self.assertEqual(transport.value(), b"reply")
        self.assertFalse(transport.disconnecting)

    def test_clientHalfCloseBeforeConnect(self):
        """
        A client EOF that arrives before the host answers is passed on once
        it does, after the buffered bytes.
        """
        service = self.service()
        client, _ = self.accept(service)
        client.dataReceived(b"request")
        client.readConnectionLost()
        _, backend = self.connectBackend()
        self.assertEqual(backend.value(), b"request")
        self.assertTrue(backend.writeClosed)

    def test_backendHalfClose(self):
        """
        The host's EOF becomes the client's EOF, and the client may still send.
        """
        service = self.service()
        client, transport = self.accept(service)
        protocol, backend = self.connectBackend()
        protocol.readConnectionLost()
        self.assertTrue(transport.writeClosed)
        client.dataReceived(b"more")
        self.assertEqual(backend.value(), b"more")


class AccountingTests(RelayCase):
    def test_closedOnceWhicheverSideFirst(self):
        """
        A connection's open count drops exactly once, whether the client or
        the host closes first, and even when both report their loss.
        """
        service = self.service(hosts=("a",))
        host = self.hosts["a"]
        for clientFirst in (True, False):
            client, transport = self.accept(service)
            protocol, backend = self.connectBackend()
            self.assertEqual(host.open, 1)
            first, second = (client, protocol) if clientFirst else (protocol, client)
            first.connectionLost(Failure(ConnectionDone()))
            second.connectionLost(Failure(ConnectionDone()))
            self.assertEqual(host.open, 0)
        self.assertEqual(host.total, 2)

    def test_backendLossClosesClient(self):
        """
        When the host goes away the client is closed after what was relayed.
        """
        service = self.service(hosts=("a",))
        client, transport = self.accept(service)
        protocol, _ = self.connectBackend()
        protocol.dataReceived(b"last words")
        protocol.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(transport.value(), b"last words")
        self.assertTrue(transport.disconnecting)

    def test_backendResetResetsClient(self):
        """
        A host's reset reaches the client as a reset, never as a clean end
        of stream, after what was relayed; it is counted once.
        """
        service = self.service(hosts=("a",))
        client, transport = self.accept(service)
        protocol, _ = self.connectBackend()
        protocol.dataReceived(b"half a reply")
        protocol.connectionLost(Failure(ConnectionLost()))
        client.connectionLost(Failure(ConnectionAborted()))
        self.assertEqual(transport.value(), b"half a reply")
        self.assertTrue(transport.aborted)
        self.assertEqual((service.resets, self.hosts["a"].open), (1, 0))

    def test_clientResetResetsBackend(self):
        """
        A client's reset reaches the host as a reset; counted once.
        """
        service = self.service(hosts=("a",))
        client, _ = self.accept(service)
        protocol, backend = self.connectBackend()
        client.connectionLost(Failure(ConnectionLost()))
        protocol.connectionLost(Failure(ConnectionAborted()))
        self.assertTrue(backend.aborted)
        self.assertEqual((service.resets, self.hosts["a"].open), (1, 0))

    def test_cleanCloseStaysClean(self):
        """
        A clean close on either side is relayed as a clean close, not a
        reset, and counts no reset.
        """
        service = self.service(hosts=("a",))
        for clientFirst in (True, False):
            client, transport = self.accept(service)
            protocol, backend = self.connectBackend()
            first, second = (client, protocol) if clientFirst else (protocol, client)
            first.connectionLost(Failure(ConnectionDone()))
            second.connectionLost(Failure(ConnectionDone()))
            self.assertFalse(transport.aborted or backend.aborted)
        self.assertEqual(service.resets, 0)

    def test_abortIsNotCountedAsRelayedReset(self):
        """
        txlb's own abort (the idle timeout) resets both sides without
        counting a reset relayed from a peer.
        """
        service = self.service(hosts=("a",), idleTimeout=10.0)
        client, transport = self.accept(service)
        protocol, backend = self.connectBackend()
        self.reactor.advance(20)
        client.connectionLost(Failure(ConnectionAborted()))
        protocol.connectionLost(Failure(ConnectionAborted()))
        self.assertTrue(transport.aborted and backend.aborted)
        self.assertEqual(service.resets, 0)

    def test_idleTimeout(self):
        """
        A connection silent both ways for idleTimeout is closed; one with
        traffic is not.
        """
        service = self.service(hosts=("a",), idleTimeout=10.0)
        quiet, quietTransport = self.accept(service)
        self.connectBackend()
        busy, busyTransport = self.accept(service, port=5001)
        busyBackend, _ = self.connectBackend()
        for _ in range(4):
            self.reactor.advance(5)
            busyBackend.dataReceived(b"tick")
        self.assertTrue(quietTransport.disconnected)
        self.assertFalse(busyTransport.disconnected)


class PoolPolicyTests(RelayCase):
    def test_backupOnlyWhenNoPrimary(self):
        """
        Backups take connections only while no primary host is available.
        """
        reactor = self.reactor
        spec = Service(
            "web",
            groups=[Group("g", hosts=[Host("p", "127.0.0.1:1"), Host("b", "127.0.0.2:2", backup=True)])],
        )
        service = Builder(reactor).service(spec)
        pool = service.pool
        for _ in range(3):
            self.accept(service)
        self.assertEqual([c[0] for c in reactor.tcpClients], ["127.0.0.1"] * 3)
        pool.setState(pool.hosts["p"], "down", "test")
        self.accept(service)
        self.assertEqual(reactor.tcpClients[-1][0], "127.0.0.2")

    def test_maxconnQueue(self):
        """
        When every host is at its maxconn, a new client waits in the queue
        and is served when a slot frees; past the queue timeout it is closed.
        """
        spec = Service(
            "web",
            groups=[Group("g", queueTimeout=5.0, hosts=[Host("a", "127.0.0.1:1", maxconn=1)])],
        )
        service = Builder(self.reactor).service(spec)
        host = service.pool.hosts["a"]
        first, _ = self.accept(service)
        firstBackend, _ = self.connectBackend()
        second, secondTransport = self.accept(service, port=5001)
        third, thirdTransport = self.accept(service, port=5002)
        self.assertEqual(len(self.reactor.tcpClients), 1)
        self.assertEqual(service.pool.waiting, 2)
        firstBackend.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(len(self.reactor.tcpClients), 2)
        self.assertEqual(host.open, 1)
        self.reactor.advance(5.1)
        self.assertTrue(thirdTransport.disconnecting)
        self.assertFalse(secondTransport.disconnecting)
        self.assertEqual(service.pool.refused, 1)

    def test_queueFull(self):
        """
        A client arriving when the queue is full is refused at once.
        """
        spec = Service(
            "web",
            groups=[Group("g", queueSize=1, hosts=[Host("a", "127.0.0.1:1", maxconn=1)])],
        )
        service = Builder(self.reactor).service(spec)
        self.accept(service)
        self.accept(service, port=5001)
        _, transport = self.accept(service, port=5002)
        self.assertTrue(transport.disconnecting)

    def test_noHostsRefusesAtOnce(self):
        """
        With every host down the client is closed at once, without waiting.
        """
        service = self.service(hosts=("a",))
        self.pool.setState(self.hosts["a"], "maint", "test")
        _, transport = self.accept(service)
        self.assertTrue(transport.disconnecting)
        self.assertEqual(self.reactor.tcpClients, [])
        self.assertEqual(self.pool.refused, 1)


class BothHalvesShutTests(RelayCase):
    """
    Closing relay connections once both directions are shut.
    """

    def test_bothHalvesShutCloses(self):
        """
        Once the client has sent EOF and its write side is shut (after the
        backend's EOF), txlb closes the client connection; Twisted would
        otherwise keep it, and its descriptor, forever.
        """
        service = self.service(hosts=("a",))
        client, transport = self.accept(service)
        backend, _ = self.connectBackend()
        client.readConnectionLost()
        self.assertFalse(transport.disconnecting)
        backend.readConnectionLost()
        self.assertTrue(transport.writeClosed)
        client.writeConnectionLost()
        self.assertTrue(transport.disconnecting)

    def test_backendBothHalvesShutCloses(self):
        """
        The same for the backend connection, in either order.
        """
        service = self.service(hosts=("a",))
        self.accept(service)
        backend, backendTransport = self.connectBackend()
        backend.writeConnectionLost()
        self.assertFalse(backendTransport.disconnecting)
        backend.readConnectionLost()
        self.assertTrue(backendTransport.disconnecting)


class BackendLostTests(RelayCase):
    """
    One side of a relay going away.
    """

    def test_bytesAfterBackendLost(self):
        """
        Bytes the client sent that arrive in the reactor iteration in which
        the backend connection was lost are dropped, not an exception (the
        host has been released already).
        """
        service = self.service(hosts=("a",))
        client, transport = self.accept(service)
        backend, backendTransport = self.connectBackend()
        backend.connectionLost(Failure(ConnectionDone()))
        client.dataReceived(b"late bytes")
        self.assertTrue(transport.disconnecting)
        self.assertIsNone(transport.producer)
        self.assertEqual(backendTransport.value(), b"")
        host = self.hosts["a"]
        self.assertEqual((host.open, host.bytesIn), (0, 0))

    def test_clientLostUnregisters(self):
        """
        When the client goes, the backend connection stops having it as its
        producer before it is closed: a paused, lost producer would keep
        Twisted from ever finishing the close (a leaked descriptor).
        """
        service = self.service(hosts=("a",))
        client, transport = self.accept(service)
        _, backendTransport = self.connectBackend()
        self.assertIs(backendTransport.producer, transport)
        client.connectionLost(Failure(ConnectionDone()))
        self.assertIsNone(backendTransport.producer)
        self.assertTrue(backendTransport.disconnecting)


class ConnectTimeoutFailoverTests(RelayCase):
    """
    Failing over when a connect times out.
    """

    def test_failsOver(self):
        """
        A connect timeout (a UserError in Twisted) fails the client over to
        the next host instead of leaving it waiting.
        """
        service = self.service(hosts=("a", "b"))
        client, transport = self.accept(service)
        self.assertEqual(len(self.reactor.tcpClients), 1)
        factory = self.reactor.tcpClients[0][2]
        factory.clientConnectionFailed(None, Failure(error.TimeoutError()))
        self.assertEqual(len(self.reactor.tcpClients), 2)
        self.assertNotEqual(self.reactor.tcpClients[0][1], self.reactor.tcpClients[1][1])
        self.assertFalse(transport.disconnecting)
        host = self.hosts[client.failover.tried[0].name]
        self.assertEqual((host.failed, host.open), (1, 0))


class TerminationTests(RelayCase):
    """
    Each connection ends with exactly one word of L{txlb.terminations},
    decided where the end is seen first.
    """

    def test_closes(self):
        """
        A clean close or a reset on either side names the side and the way.
        """
        service = self.service(hosts=("a",))
        cases = [
            (True, ConnectionDone, "client-closed"),
            (False, ConnectionDone, "backend-closed"),
            (True, ConnectionLost, "client-reset"),
            (False, ConnectionLost, "backend-reset"),
        ]
        for clientFirst, lost, word in cases:
            client, _ = self.accept(service)
            protocol, _ = self.connectBackend()
            first, second = (client, protocol) if clientFirst else (protocol, client)
            first.connectionLost(Failure(lost()))
            second.connectionLost(Failure(ConnectionAborted()))
            self.assertEqual(client.termination, word)

    def test_noHostAndConnectFailed(self):
        """
        No host at all is no-host; every host refusing is connect-failed.
        """
        service = self.service(hosts=("a",))
        self.hosts["a"].state = "down"
        client, _ = self.accept(service)
        client.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(client.termination, "no-host")
        self.hosts["a"].state = "up"
        client, _ = self.accept(service)
        for _ in range(3):
            self.refuseBackend()
        client.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(client.termination, "connect-failed")

    def test_idleTimeout(self):
        """
        The idle timeout's abort says idle-timeout.
        """
        service = self.service(hosts=("a",), idleTimeout=10.0)
        client, _ = self.accept(service)
        self.connectBackend()
        self.reactor.advance(20)
        self.assertEqual(client.termination, "idle-timeout")
