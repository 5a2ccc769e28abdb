"""
The handover service (C{--handover PATH}, C{Balancer(handover=PATH)}): the
same command line starts txlb the first time and replaces a running one
afterwards without refusing a single connection.

Started while nothing answers at PATH, txlb binds its sockets as usual and
serves handovers at PATH once it runs. Started while a txlb answers there,
it receives that process's listening sockets (relay listeners, admin
listeners, heartbeat sockets, matched by kind, service name and endpoint
description) and the description it runs (its configuration with every
change made since through the admin, C{txlbctl apply} or C{SIGHUP}) before
its own listeners start, runs that description, adopts the sockets, and
says C{taken}; the old process
stops accepting (closing its own descriptors only), stops serving PATH and
answers C{released}, then drains its connections and exits; the new one
serves PATH.
"""

import os
import stat

import attr
from twisted.application.service import Service
from twisted.internet import defer
from twisted.internet.endpoints import TCP4ServerEndpoint, TCP6ServerEndpoint
from twisted.internet.error import CannotListenError
from twisted.logger import Logger

from txlb._twisted import closeWithoutShutdown
from txlb.admin import AdminService
from txlb.admin._api import AdminAPI
from txlb.admin._faults import AdminError
from txlb.config import Balancer
from txlb.errors import ConfigError, StartupError, quietExit
from txlb.handover._give import GivingFactory
from txlb.handover._journal import JournaledAPI, Replay
from txlb.handover._notify import notify
from txlb.handover._offer import HandoverError, receive
from txlb.health import HeartbeatListener
from txlb.lean import LeanPort
from txlb.listener import Listener
from txlb.plain import fromPlain, toPlain
from txlb.workers import sharedFactory

#: Seconds the old process waits for the new one to close the handover
#: channel after C{released} before it stops anyway.
LEAVE_GRACE = 5.0


class Handover(Service):
    """
    Hands this process's sockets over to its successor, or takes them
    from its predecessor.

    @ivar offer: what the predecessor handed over (an
        L{txlb.handover._offer.Offer}) until taken, else None.
    @ivar journal: the admin changes made so far (replayed ones included),
        as C{[(method, args), ...]}.
    @ivar pidfile: a file to write this process's id to once it serves
        (twistd's own is given to this service by C{twistd txlb}, since
        two processes hold it in turn), or None.
    """

    log = Logger()
    name = "handover"

    def __init__(self, balancer, builder, path, receive=receive, notify=notify):
        self.balancer = balancer
        self.builder = builder
        self.reactor = builder.reactor
        self.clock = builder.clock
        self.path = path
        self.receive = receive
        self.notify = notify
        self.offer = None
        self.journal = []
        self.pidfile = None
        self.port = None
        self.giving = None
        self._received = False
        self._leaving = None
        builder.bind = self.binder("relay", builder.bind)
        for proxy in balancer.proxies.values():
            proxy.bind = self.binder("relay", proxy.bind)
            for listener in proxy.listeners:
                listener.bind = proxy.bind
            for child in proxy:
                if isinstance(child, HeartbeatListener):
                    child.listenUDP = self._udpBinder(proxy.name, child)
        for admin in self._admins():
            for listener in admin:
                listener.bind = self.binder("admin", listener.bind)
            admin.useAPI(JournaledAPI(admin.api, self.journal))

    def _admins(self):
        return [child for child in self.balancer if isinstance(child, AdminService)]

    # Taking over: the new process

    def binder(self, kind, fallback):
        """
        A listener C{bind} (see L{Listener}) adopting the socket handed
        over for the listener's C{(kind, service, description)}, else
        binding with C{fallback} (or the listener's endpoint).
        """

        def bind(listener):
            held = self.offer.take((kind, listener.serviceName, listener.description)) if self.offer else None
            lean = getattr(listener.factory, "lean", None)
            if held is None:
                if fallback is not None:
                    return fallback(listener)
                if lean is not None:
                    return lean.bind(listener)
                return listener.endpoint.listen(listener.factory)
            fd, family = held
            try:
                if lean is not None and isinstance(listener.endpoint, (TCP4ServerEndpoint, TCP6ServerEndpoint)):
                    return defer.succeed(LeanPort.adopt(self.reactor, listener.factory, fd, family))
                # An ssl: endpoint's port speaks TLS: so does the adopted one.
                factory = sharedFactory(listener)
                return defer.succeed(self.reactor.adoptStreamPort(fd, family, factory))
            except Exception as e:
                return defer.fail(CannotListenError(None, listener.description, e))

        return bind

    def _udpBinder(self, service, heartbeat):
        key = ("heartbeat", f"{service}/{heartbeat.pool.name}", heartbeat.listen)

        def listenUDP(port, protocol, interface=""):
            held = self.offer.take(key) if self.offer else None
            if held is None:
                return self.reactor.listenUDP(port, protocol, interface=interface)
            fd, family = held
            return self.reactor.adoptDatagramPort(fd, family, protocol)

        return listenUDP

    def privilegedStartService(self):
        """
        Before any listener starts: receive the sockets of the txlb
        answering at the handover path, if one does.
        """
        Service.privilegedStartService(self)
        self._received = True
        try:
            self.offer = self.receive(self.path)
        except HandoverError as e:
            self.log.critical("{why}", why=str(e))
            raise quietExit(StartupError(str(e))) from None
        if self.offer is not None:
            self.log.info(
                "handover: taking over {count} sockets from txlb pid {pid}",
                count=len(self.offer.sockets), pid=self.offer.pid,
            )
            self._runHandedOver(self.offer)

    def _runHandedOver(self, offer):
        """
        Change this (not yet started) balancer to run the description the
        predecessor runs (its configuration with every change made since),
        keeping this process's own admin, handover, DNS servers and state
        file. Without one (a balancer built without a description), the
        predecessor's admin journal is replayed once started instead.
        """
        spec = self.balancer.spec
        if offer.config is None or spec is None:
            return
        try:
            running = fromPlain(Balancer, offer.config, "the handed-over configuration")
            running = attr.evolve(running, admin=spec.admin, handover=spec.handover, dns=spec.dns, state=spec.state)
            changes = AdminAPI(self.balancer, self.builder).reconfigure(
                None, spec, running, why=f"running the configuration of txlb pid {offer.pid}"
            )
        except (ConfigError, AdminError) as e:
            self.log.error(
                "handover: the configuration of txlb pid {pid} cannot run here ({why}); "
                "running this process's own",
                pid=offer.pid, why=getattr(e, "message", None) or str(e),
            )
            return
        offer.journal = []
        self.log.info(
            "handover: running the configuration of txlb pid {pid} ({count} differences from this process's own)",
            pid=offer.pid, count=len(changes),
        )
        if self.balancer.workers is not None:
            # This set's other workers start from the source and catch up
            # through worker 0's journal.
            self.balancer.workers.journal.insert(0, ("applyConfig", (toPlain(running),)))

    def startService(self):
        if not self._received:
            # Started without privilegedStartService first.
            self.privilegedStartService()
        Service.startService(self)
        # Once every listener of the tree has started (they adopt now).
        self.reactor.callLater(0, self._settle)

    @defer.inlineCallbacks
    def _settle(self):
        offer = self.offer
        if offer is not None:
            admins = self._admins()
            if admins and offer.journal:
                yield Replay(admins[0].api, offer.journal).run()
            try:
                offer.taken()
            except HandoverError as e:
                # The sockets are this process's now either way: serve on.
                self.log.warn("handover: {why}; serving anyway", why=str(e))
            else:
                self.log.info("handover: took over from txlb pid {pid}", pid=offer.pid)
            self.offer = None
            offer.close()
        if self.running:
            self._serve()

    def _serve(self):
        if os.path.exists(self.path) and stat.S_ISSOCK(os.stat(self.path).st_mode):
            # A socket nothing answered on (or the predecessor has left).
            os.unlink(self.path)
        try:
            self.port = self.reactor.listenUNIX(self.path, GivingFactory(self), mode=0o600)
        except CannotListenError as e:
            self.log.critical("handover: cannot serve {path}: {why}", path=self.path, why=e.socketError)
            return
        if self.pidfile:
            with open(self.pidfile, "w") as f:
                f.write(f"{os.getpid()}\n")
        self.notify(READY=1, MAINPID=os.getpid())
        self.log.info("handover: serving handovers on {path}", path=self.path)

    # Handing over: the old process

    def sockets(self):
        """
        Every socket this process listens on now, as
        C{(kind, name, description, port)}.
        """
        found = []
        for name, proxy in self.balancer.proxies.items():
            for listener in proxy.listeners:
                if listener.port is not None:
                    found.append(("relay", name, listener.description, listener.port))
            for child in proxy:
                if isinstance(child, HeartbeatListener) and child.listeningPort is not None:
                    key = f"{name}/{child.pool.name}"
                    found.append(("heartbeat", key, child.listen, child.listeningPort))
        for admin in self._admins():
            for listener in admin:
                if isinstance(listener, Listener) and listener.port is not None:
                    found.append(("admin", listener.serviceName, listener.description, listener.port))
        return found

    def _owners(self):
        for proxy in self.balancer.proxies.values():
            for listener in proxy.listeners:
                yield listener, "port"
            for child in proxy:
                if isinstance(child, HeartbeatListener):
                    yield child, "listeningPort"
        for admin in self._admins():
            for listener in admin:
                yield listener, "port"

    def release(self):
        """
        Stop accepting everywhere, closing this process's descriptors only
        (the successor holds the sockets), and stop serving the handover
        path; a Deferred.
        """
        stopping = []
        for owner, attribute in self._owners():
            port = getattr(owner, attribute, None)
            if port is None:
                continue
            setattr(owner, attribute, None)
            closeWithoutShutdown(port)
            stopping.append(defer.maybeDeferred(port.stopListening))
        if self.port is not None:
            port, self.port = self.port, None
            stopping.append(defer.maybeDeferred(port.stopListening))
        self.log.info("handover: released every socket; draining, then exiting")
        self.clock.callLater(LEAVE_GRACE, self.leave)
        return defer.DeferredList(stopping)

    def leave(self):
        """
        The successor has taken over: drain and exit.
        """
        if self._leaving is None:
            self._leaving = self.clock.callLater(0, self.reactor.stop)

    def stopService(self):
        Service.stopService(self)
        if self.offer is not None:
            offer, self.offer = self.offer, None
            offer.close()
        if self.pidfile:
            try:
                with open(self.pidfile) as f:
                    ours = f.read().strip() == str(os.getpid())
                if ours:
                    os.unlink(self.pidfile)
            except OSError:
                pass
        if self.port is not None:
            port, self.port = self.port, None
            return port.stopListening()
