"""
C{--workers N}: N processes, each a full balancer, sharing the listeners
(C{SO_REUSEPORT}); worker 0 runs the admin for the whole set. See
C{doc/workers.rst}.
"""

import os

from txlb._signals import onHangup
from txlb.admin import AdminService
from txlb.health import HeartbeatListener
from txlb.workers._admin import WorkerAdminAPI
from txlb.workers._port import SharedPort, listenShared, sharedFactory, tcpAddress
from txlb.workers._process import ENVIRONMENT, workerCommand
from txlb.workers._set import WorkerSet
from txlb.workers._worker import ParentWatch, Worker, WorkerRole

#: The most workers one balancer runs.
MAX_WORKERS = 64


class Supervisor:
    """
    The role of worker 0 of C{count}, an input of the build
    (L{txlb.builder.Builder}): its relay listeners share their addresses,
    a L{WorkerSet} starts the others with C{argv}, the admin changes every
    worker, and accepted heartbeats reach every worker.
    """

    admin = True

    def __init__(self, count, argv, reactor):
        self.count = count
        self.argv = argv
        self.reactor = reactor

    def bind(self, listener):
        """
        Listen on the listener's address, refused when another process
        holds it, then share it (C{SO_REUSEPORT}) with this set's workers.
        """
        return listenShared(self.reactor, sharedFactory(listener), *tcpAddress(listener), first=True)

    def adopt(self, balancer, builder):
        """
        Add the worker set to the freshly built C{balancer}.

        @raise txlb.errors.ConfigError: when a relay listener is not plain TCP.
        """
        for proxy in balancer.proxies.values():
            for listener in proxy.listeners:
                tcpAddress(listener)
        workers = WorkerSet(balancer, self.count, self.argv, self.reactor)
        balancer.workers = workers
        for child in list(balancer):
            if isinstance(child, AdminService):
                child.useAPI(WorkerAdminAPI(child.api, workers))
        for name, proxy in balancer.proxies.items():
            for child in proxy:
                if isinstance(child, HeartbeatListener):
                    child.forward = workers.heartbeatForwarder(name, child.pool.name)
        if any(getattr(proxy, "tls", None) is not None for proxy in balancer.proxies.values()):
            # A SIGHUP to worker 0 reloads the certificates of every worker.
            onHangup(self.reactor, lambda: workers.broadcast("reloadCertificates", (), journal=False))
        workers.setServiceParent(balancer)
        return workers


def workerRole(environ=os.environ):
    """
    The L{WorkerRole} worker 0 gave this process, or None in worker 0 or
    without workers.
    """
    text = environ.get(ENVIRONMENT)
    return WorkerRole.fromEnvironment(text) if text else None


__all__ = [
    "MAX_WORKERS",
    "ParentWatch",
    "SharedPort",
    "WorkerAdminAPI",
    "WorkerRole",
    "WorkerSet",
    "Supervisor",
    "Worker",
    "listenShared",
    "sharedFactory",
    "tcpAddress",
    "workerCommand",
    "workerRole",
]
