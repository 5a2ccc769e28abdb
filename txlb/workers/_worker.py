"""
A worker other than worker 0: the same balancer, but its relay listeners
bind (sharing worker 0's addresses) only once worker 0 has replayed the
admin's changes to it; it serves no admin of its own, takes its orders
on a private UNIX socket, hears heartbeats through worker 0, and stops
when worker 0 is gone.
"""

import json
import os
import xmlrpc.client

from twisted.application.service import Service
from twisted.internet import defer
from twisted.internet.task import LoopingCall
from twisted.logger import Logger
from twisted.web import xmlrpc as webxmlrpc

from txlb.admin import AdminRPC, AdminService
from txlb.admin._limits import AdminLimits
from txlb.admin._faults import BAD_ARGUMENT, NOT_FOUND
from txlb.errors import ConfigError
from txlb.health import HeartbeatListener
from txlb.workers._port import listenShared, sharedFactory, tcpAddress


class WorkerRole:
    """
    What worker 0 told this worker: its index, worker 0's pid, its control
    socket, and the ports worker 0's listeners were given by the OS.
    """

    def __init__(self, index, parent, control, ports):
        self.index = index
        self.parent = parent
        self.control = control
        self.ports = ports

    @classmethod
    def fromEnvironment(cls, text):
        """
        @raise ConfigError: when C{text} is not what worker 0 writes.
        """
        try:
            setup = json.loads(text)
            ports = {(s, d): int(p) for s, d, p in setup["ports"]}
            return cls(int(setup["index"]), int(setup["parent"]), str(setup["control"]), ports)
        except (ValueError, TypeError, KeyError) as e:
            raise ConfigError(f"TXLB_WORKER is set but is not a worker setup ({e})") from None


class _Serving:
    """
    The relay listeners' hook in a worker: each waits until worker 0 says
    serve, then binds the address worker 0 bound.
    """

    def __init__(self, role, reactor):
        self.role = role
        self.reactor = reactor
        self.serving = False
        self.waiting = []

    def __call__(self, listener):
        interface, port, backlog = tcpAddress(listener)
        port = self.role.ports.get((listener.serviceName, listener.description), port)
        if self.serving:
            return listenShared(self.reactor, sharedFactory(listener), interface, port, backlog)
        d = defer.Deferred()
        d.addCallback(lambda _: listenShared(self.reactor, sharedFactory(listener), interface, port, backlog))
        self.waiting.append(d)
        return d

    def serve(self):
        self.serving = True
        waiting, self.waiting = self.waiting, []
        for d in waiting:
            d.callback(None)


class _WorkerCalls(webxmlrpc.XMLRPC):
    """
    The calls only worker 0 makes, under C{worker.}: C{serve} and
    C{heartbeat}.
    """

    def __init__(self, balancer, serving):
        webxmlrpc.XMLRPC.__init__(self, allowNone=False)
        self.balancer = balancer
        self.serving = serving

    def xmlrpc_serve(self):
        self.serving.serve()
        return True

    def xmlrpc_heartbeat(self, service, group, datagram, host, port):
        proxy = self.balancer.proxies.get(service)
        listener = proxy.namedServices.get(f"heartbeat:{group}") if proxy is not None else None
        if listener is None:
            return webxmlrpc.Fault(NOT_FOUND, f"no heartbeats for {service}/{group}")
        if not isinstance(datagram, xmlrpc.client.Binary):
            return webxmlrpc.Fault(BAD_ARGUMENT, "the datagram must be binary")
        listener.received(datagram.data, (host, port))
        return True


class ControlService(AdminService):
    """
    The worker's admin, on its private UNIX socket only, with the calls
    worker 0 makes beside the usual ones.
    """

    def __init__(self, balancer, path, builder, serving):
        self.serving = serving
        # Worker 0's own calls: no descriptor reserve to refuse them by.
        AdminService.__init__(
            self, balancer, [f"unix:{path}:mode=600"], builder, limits=AdminLimits(descriptorReserve=0)
        )

    def makeRoot(self, user=None, readOnly=False):
        root = AdminService.makeRoot(self, "worker 0", readOnly)
        rpc = AdminRPC(self.api, "worker 0")
        rpc.putSubHandler("worker", _WorkerCalls(self.balancer, self.serving))
        root.putChild(b"RPC2", rpc)
        return root

    def startService(self):
        # Worker 0 polls every second: no access log line per call.
        for listener in self:
            listener.factory.log = lambda request: None
        AdminService.startService(self)


class ParentWatch(Service):
    """
    Stops this worker when worker 0 is gone (its children are then
    re-parented), checked every C{interval} seconds.
    """

    log = Logger()

    def __init__(self, parent, reactor, clock=None, interval=1.0, getppid=os.getppid):
        self.parentPid = parent
        self.reactor = reactor
        self.clock = clock if clock is not None else reactor
        self.interval = interval
        self.getppid = getppid
        self._loop = None

    def startService(self):
        Service.startService(self)
        self._loop = LoopingCall(self.check)
        self._loop.clock = self.clock
        self._loop.start(self.interval, now=True)

    def check(self):
        if self.getppid() != self.parentPid:
            self.log.warn("worker 0 (pid {pid}) is gone; stopping", pid=self.parentPid)
            self._loop.stop()
            self.reactor.stop()

    def stopService(self):
        Service.stopService(self)
        if self._loop is not None and self._loop.running:
            self._loop.stop()


class Worker:
    """
    The role of a worker other than worker 0, an input of the build
    (L{txlb.builder.Builder}): its relay listeners bind worker 0's
    addresses once worker 0 has replayed the admin's changes; it serves no
    admin of its own (worker 0's orders arrive on a private UNIX socket),
    binds no heartbeat socket (worker 0 forwards them), and stops when
    worker 0 is gone.
    """

    admin = False

    def __init__(self, role, reactor):
        """
        @param role: the L{WorkerRole} worker 0 gave this process.
        """
        self.role = role
        self.reactor = reactor
        self.bind = _Serving(role, reactor)

    def adopt(self, balancer, builder):
        """
        Add the worker's control socket and parent watch to the freshly
        built C{balancer}.
        """
        for proxy in balancer.proxies.values():
            for listener in proxy.listeners:
                tcpAddress(listener)
            for child in proxy:
                if isinstance(child, HeartbeatListener):
                    child.bind = False
        ControlService(balancer, self.role.control, builder, self.bind).setServiceParent(balancer)
        ParentWatch(self.role.parent, self.reactor).setServiceParent(balancer)
