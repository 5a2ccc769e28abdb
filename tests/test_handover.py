"""
The parts of a handover on their own: the admin journal and its replay,
the blocking receiving side, the listener binder, systemd's notification,
and how the old process closes what it hands over.
"""

import json
import os
import socket
import tempfile
import threading

from twisted.internet import defer, tcp
from twisted.internet.protocol import Factory
from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import SynchronousTestCase

from txlb._twisted import closeWithoutShutdown
from txlb.builder import Builder
from txlb.config import Admin, Balancer, Group, Host, Service
from txlb.handover import HandoverError, JournaledAPI, Replay, findHandover, notify, receive, takePidFile


class _API:
    """
    An admin API stand-in recording calls; C{delHost} refuses.
    """

    def __init__(self):
        self.calls = []

    def addHost(self, user, *args):
        self.calls.append(("addHost", user) + args)
        return True

    def delHost(self, user, *args):
        raise ValueError("no such host")

    def setWeight(self, user, *args):
        self.calls.append(("setWeight", user) + args)
        return defer.succeed(True)

    def reopenLog(self, user):
        return True

    def getConfig(self):
        return {}


class JournalTests(SynchronousTestCase):
    """
    L{JournaledAPI} and L{Replay}.
    """

    def test_recordsChanges(self):
        """
        Changes that succeed (at once or later) are journaled in order;
        refused ones, reads and C{reopenLog} are not.
        """
        journal = []
        api = JournaledAPI(_API(), journal)
        api.addHost("ann", "web", "g", "a", "127.0.0.1:80")
        self.assertRaises(ValueError, api.delHost, "ann", "web", "g", "b")
        self.successResultOf(api.setWeight("ann", "web", "g", "a", 3))
        api.reopenLog("ann")
        api.getConfig()
        self.assertEqual(journal, [("addHost", ["web", "g", "a", "127.0.0.1:80"]), ("setWeight", ["web", "g", "a", 3])])

    def test_replay(self):
        """
        A replay makes every change again as user C{handover}, skipping
        refused ones, and counts what succeeded.
        """
        api = _API()
        journal = [("addHost", ["web", "g", "a", "x:1"]), ("delHost", ["web", "g", "b"]), ("setWeight", ["web", "g", "a", 2])]
        self.assertEqual(self.successResultOf(Replay(api, journal).run()), 2)
        self.assertEqual(api.calls, [("addHost", "handover", "web", "g", "a", "x:1"),
                                     ("setWeight", "handover", "web", "g", "a", 2)])
        self.flushLoggedErrors()


class ReceiveTests(SynchronousTestCase):
    """
    L{receive}: the new process's side, on real UNIX sockets.
    """

    def setUp(self):
        self.directory = tempfile.mkdtemp()
        self.path = os.path.join(self.directory, "h.sock")

    def tearDown(self):
        if os.path.exists(self.path):
            os.unlink(self.path)
        os.rmdir(self.directory)

    def test_nothingThere(self):
        """
        No file, or a socket file nobody listens on: nothing answers.
        """
        self.assertIsNone(receive(self.path))
        stale = socket.socket(socket.AF_UNIX)
        stale.bind(self.path)
        stale.close()
        self.assertIsNone(receive(self.path))

    def test_notASocket(self):
        """
        A path that is a plain file is refused with one sentence (and left
        alone): a typo must not remove someone's file.
        """
        with open(self.path, "w") as f:
            f.write("keep me")
        with self.assertRaises(HandoverError) as caught:
            receive(self.path)
        self.assertIn("is not a socket", str(caught.exception))
        with open(self.path) as f:
            self.assertEqual(f.read(), "keep me")

    def test_socketsAndJournal(self):
        """
        The descriptors arrive in order with their keys, the journal and
        the old process's pid with them; C{taken} waits for C{released}.
        """
        listening = socket.socket()
        listening.bind(("127.0.0.1", 0))
        listening.listen(1)
        self.addCleanup(listening.close)
        message = json.dumps({
            "pid": 42, "sockets": [["relay", "web", "tcp:0", socket.AF_INET]],
            "journal": [["addHost", ["web", "g", "a", "x:1"]]],
        }).encode() + b"\n"
        server = socket.socket(socket.AF_UNIX)
        server.bind(self.path)
        server.listen(1)
        self.addCleanup(server.close)
        answers = []

        def old():
            peer, _ = server.accept()
            # The first byte carries the descriptor, as Twisted sends it.
            socket.send_fds(peer, [message[:1]], [listening.fileno()])
            peer.sendall(message[1:])
            answers.append(peer.recv(100))
            peer.sendall(b"released\n")
            peer.close()

        thread = threading.Thread(target=old)
        thread.start()
        offer = receive(self.path, timeout=5)
        self.assertEqual(offer.pid, 42)
        self.assertEqual(offer.journal, [("addHost", ["web", "g", "a", "x:1"])])
        fd, family = offer.take(("relay", "web", "tcp:0"))
        self.assertEqual(family, socket.AF_INET)
        adopted = socket.socket(fileno=os.dup(fd))
        self.assertEqual(adopted.getsockname(), listening.getsockname())
        adopted.close()
        offer.taken(timeout=5)
        thread.join(5)
        self.assertEqual(answers, [b"taken\n"])
        offer.close()

    def test_garbage(self):
        """
        Something answering with what is not a handover is one sentence.
        """
        server = socket.socket(socket.AF_UNIX)
        server.bind(self.path)
        server.listen(1)
        self.addCleanup(server.close)

        def old():
            peer, _ = server.accept()
            peer.sendall(b"HTTP/1.0 400 Bad Request\n")
            peer.close()

        thread = threading.Thread(target=old)
        thread.start()
        with self.assertRaises(HandoverError) as caught:
            receive(self.path, timeout=5)
        thread.join(5)
        self.assertIn("the handover from", str(caught.exception))


class BinderTests(SynchronousTestCase):
    """
    The binds a L{Handover} gives listeners, on a memory reactor.
    """

    def build(self):
        reactor = MemoryReactorClock()
        spec = Balancer(
            services=[Service("web", listen=["tcp:8080"], groups=[Group("g", hosts=[Host("a", "127.0.0.1:80")])])],
            admin=[Admin(["tcp:8001:interface=127.0.0.1"])],
            handover="/nonexistent/handover.sock",
        )
        top = Builder(reactor).balancer(spec)
        return reactor, top, top.getServiceNamed("handover")

    def test_adoptsHandedOver(self):
        """
        A listener whose (kind, service, description) was handed over
        adopts that descriptor; others bind their endpoint.
        """
        reactor, top, handover = self.build()

        class Offer:
            sockets = {("relay", "web", "tcp:8080"): (7, socket.AF_INET)}

            def take(self, key):
                return self.sockets.get(key)

        handover.offer = Offer()
        listener = top.proxies["web"].listeners[0]
        listener.startService()
        self.assertEqual([a[:2] for a in reactor.adoptedPorts], [(7, socket.AF_INET)])
        admin = top.getServiceNamed("admin")
        for child in admin:
            child.startService()
        self.assertEqual([p[0] for p in reactor.tcpServers], [8001])

    def test_journalsAdmin(self):
        """
        The admin's changes land in the handover's journal.
        """
        reactor, top, handover = self.build()
        admin = top.getServiceNamed("admin")
        admin.api.setWeight("ann", "web", "g", "a", 5)
        self.assertEqual(handover.journal, [("setWeight", ["web", "g", "a", 5])])

    def test_noHandoverWithoutPath(self):
        """
        Without a handover path there is no handover service.
        """
        top = Builder(MemoryReactorClock()).balancer(Balancer(services=[Service("web", listen=["tcp:8080"], groups=[Group("g")])]))
        self.assertRaises(KeyError, top.getServiceNamed, "handover")


class CloseTests(SynchronousTestCase):
    """
    L{closeWithoutShutdown}: the kernel keeps a listening socket another
    process holds a copy of.
    """

    def test_copyKeepsListening(self):
        """
        A Twisted port closed after L{closeWithoutShutdown} leaves a copy
        of its socket accepting; without it, C{shutdown} would stop the
        copy too.
        """
        port = tcp.Port(0, Factory(), 5, "127.0.0.1", MemoryReactorClock())
        port.startListening()
        copy = socket.socket(fileno=os.dup(port.fileno()))
        self.addCleanup(copy.close)
        closeWithoutShutdown(port)
        port.connectionLost(None)
        client = socket.create_connection(copy.getsockname(), timeout=5)
        self.addCleanup(client.close)
        accepted, _ = copy.accept()
        accepted.close()


class NotifyTests(SynchronousTestCase):
    """
    L{notify}: systemd's readiness datagram.
    """

    def test_sent(self):
        """
        With C{NOTIFY_SOCKET} set, the fields reach that socket as lines.
        """
        path = tempfile.mktemp()
        sink = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sink.bind(path)
        self.addCleanup(os.unlink, path)
        self.addCleanup(sink.close)
        self.assertTrue(notify({"NOTIFY_SOCKET": path}, READY=1, MAINPID=12))
        self.assertEqual(sink.recv(100), b"READY=1\nMAINPID=12")

    def test_notSystemd(self):
        """
        Without C{NOTIFY_SOCKET} nothing is sent.
        """
        self.assertFalse(notify({}, READY=1))


class PidFileTests(SynchronousTestCase):
    """
    L{takePidFile}: twistd's pid file becomes the handover's to write.
    """

    def test_taken(self):
        """
        With a handover, twistd's C{pidfile} option moves to the handover
        service (as an absolute path) and twistd's is emptied; without
        one, nothing changes.
        """
        reactor = MemoryReactorClock()
        spec = Balancer(services=[Service("web", listen=["tcp:8080"], groups=[Group("g")])], handover="/x/h.sock")
        top = Builder(reactor).balancer(spec)
        options = {"pidfile": "twistd.pid"}
        takePidFile(top, options)
        self.assertEqual(options, {"pidfile": ""})
        self.assertEqual(findHandover(top).pidfile, os.path.abspath("twistd.pid"))
        plain = Builder(reactor).balancer(Balancer(services=[Service("web", listen=["tcp:8080"], groups=[Group("g")])]))
        options = {"pidfile": "twistd.pid"}
        takePidFile(plain, options)
        self.assertEqual(options, {"pidfile": "twistd.pid"})
