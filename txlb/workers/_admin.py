"""
Worker 0's admin when there are other workers: every change is made here
first (so a refused call changes nothing anywhere), then in every other
worker; C{getStatus} sums every worker's counters; C{getWorkers} lists
them.
"""

from twisted.internet.endpoints import TCP6ServerEndpoint

from txlb._twisted import tcpEndpointAddress
from txlb.admin._rpc import METHODS

#: Changes that stay in worker 0: the other workers log through it.
_HERE_ONLY = {"reopenLog", "shutdown"}


class WorkerAdminAPI:
    """
    Wraps worker 0's L{txlb.admin.AdminAPI}; reads pass through.
    """

    def __init__(self, api, workers):
        self.api = api
        self.workers = workers
        for name, (_, _, writes, _) in METHODS.items():
            if writes and name not in _HERE_ONLY:
                setattr(self, name, self._everywhere(name))

    def __getattr__(self, name):
        return getattr(self.api, name)

    def _everywhere(self, name):
        operation = getattr(self.api, name)

        def change(user, *args):
            result = operation(user, *args)
            d = self.workers.broadcast(name, self._forwarded(name, args))
            d.addCallback(lambda _: result)
            return d

        return change

    def _forwarded(self, name, args):
        if name != "newService":
            return args
        # The other workers bind the port worker 0 got, also for port 0.
        service = args[0]
        (listener,) = self.api.balancer.proxies[service].listeners
        return (service, _concrete(listener))

    def getStatus(self):
        d = self.workers.refresh()
        d.addCallback(lambda _: self.api.getStatus())
        return d

    def getWorkers(self):
        def describe(_):
            accepted = sum(p.accepted for p in self.api.balancer.proxies.values())
            return self.workers.describe(accepted)

        return self.workers.refresh().addCallback(describe)

    def shutdown(self, user, drainSeconds=None):
        result = self.api.shutdown(user, drainSeconds)
        self.workers.stopWorkers(drainSeconds)
        return result


def _concrete(listener):
    address = tcpEndpointAddress(listener.endpoint)
    if listener.port is None or address is None or address[1] != 0:
        return listener.description
    interface, _, backlog = address
    kind = "tcp6" if isinstance(listener.endpoint, TCP6ServerEndpoint) else "tcp"
    interface = interface.replace(":", "\\:")
    return f"{kind}:{listener.port.getHost().port}:interface={interface}:backlog={backlog}"
