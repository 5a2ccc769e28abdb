"""
C{--workers N}: N processes, each a full balancer, sharing the listeners
(C{SO_REUSEPORT}); worker 0 runs the admin for the whole set. See
C{doc/workers.rst}.
"""

import os

from txlb.workers._admin import WorkerAdminAPI
from txlb.workers._port import SharedPort, listenShared, tcpAddress
from txlb.workers._process import ENVIRONMENT, workerCommand
from txlb.workers._set import WorkerSet
from txlb.workers._worker import ParentWatch, WorkerRole, becomeWorker

#: The most workers one balancer runs.
MAX_WORKERS = 64


def superviseWorkers(balancer, count, argv, reactor):
    """
    Make the freshly built tree C{balancer} worker 0 of C{count}: its relay
    listeners share their addresses, a L{WorkerSet} starts the others with
    C{argv}, the admin changes every worker, and accepted heartbeats reach
    every worker.

    @raise txlb.errors.ConfigError: when a relay listener is not plain TCP.
    """
    from txlb.admin import AdminService
    from txlb.health import HeartbeatListener

    for proxy in balancer.proxies.values():
        for listener in proxy.listeners:
            tcpAddress(listener)

    def share(listener):
        return listenShared(reactor, listener.factory, *tcpAddress(listener))

    balancer.listenHook = share
    workers = WorkerSet(balancer, count, argv, reactor)
    balancer.workers = workers
    for child in list(balancer):
        if isinstance(child, AdminService):
            child.useAPI(WorkerAdminAPI(child.api, workers))
    for name, proxy in balancer.proxies.items():
        for child in proxy:
            if isinstance(child, HeartbeatListener):
                child.forward = workers.heartbeatForwarder(name, child.pool.name)
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
    "becomeWorker",
    "listenShared",
    "superviseWorkers",
    "tcpAddress",
    "workerCommand",
    "workerRole",
]
