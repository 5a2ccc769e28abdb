"""
The balancer: the top of the service tree.
"""

from collections import OrderedDict

from twisted.application.service import MultiService
from twisted.logger import Logger

from txlb._dispatch import leanDispatch
from txlb._limits import raiseFileLimit
from txlb.errors import ConfigError


class LoadBalancer(MultiService):
    """
    The top C{MultiService}: proxy services, and whatever else runs beside
    them (health checks, heartbeats, the admin), as children.

    @ivar proxies: the L{ProxyService}s by name.
    @ivar workers: the L{txlb.workers.WorkerSet} in worker 0 of several,
        else None.
    @ivar store: the L{txlb.etcd.SharedStore} it shares its services
        through, or None.
    @ivar spec: the L{txlb.config.Balancer} running now (kept current by
        L{setSpec}), or None.
    """

    log = Logger()

    def __init__(self, reactor, spec=None, raiseLimit=raiseFileLimit):
        """
        @param spec: the L{txlb.config.Balancer} this was built from (what
            C{txlb check} and C{--dry-run} describe), or None.
        @param raiseLimit: called once at start to raise the soft file
            descriptor limit; returns C{(before, after, error)}.
        """
        MultiService.__init__(self)
        self.reactor = reactor
        self.spec = spec
        self.proxies = OrderedDict()
        self.workers = None
        self.store = None
        self.specObservers = []
        self._raiseLimit = raiseLimit

    def setSpec(self, spec):
        """
        The running description is now C{spec} (after a change through the
        admin or a reload); every function in C{specObservers} is called
        with it (C{--state} writes it to its file).
        """
        self.spec = spec
        for observer in list(self.specObservers):
            observer(spec)

    def startService(self):
        """
        Raise the soft file descriptor limit to the hard one, make the
        reactor dispatch events leanly (L{txlb._dispatch}), then start.
        """
        leanDispatch(self.reactor)
        before, after, error = self._raiseLimit()
        if error is not None:
            self.log.warn(
                "cannot raise the open file limit above {before}: {error}",
                before=before,
                error=error,
            )
        elif after != before:
            self.log.info(
                "open file limit raised from {before} to {after}", before=before, after=after
            )
        MultiService.startService(self)

    def addProxy(self, proxy):
        """
        Add a L{ProxyService}; its name must be new.
        """
        if proxy.name in self.proxies:
            raise ConfigError(f"a service named {proxy.name!r} exists already")
        self.proxies[proxy.name] = proxy
        proxy.setServiceParent(self)

    def removeProxy(self, name):
        """
        Stop and remove a service; returns the Deferred of its stopping.
        """
        proxy = self.getProxy(name)
        del self.proxies[name]
        return proxy.disownServiceParent()

    def getProxy(self, name):
        """
        @raise ConfigError: for an unknown service name.
        """
        try:
            return self.proxies[name]
        except KeyError:
            raise ConfigError(f"there is no service named {name!r}") from None
