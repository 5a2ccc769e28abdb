"""
The balancer: the top of the service tree.
"""

from collections import OrderedDict

from twisted.application.service import MultiService

from txlb.errors import ConfigError


class LoadBalancer(MultiService):
    """
    The top C{MultiService}: proxy services, and whatever else runs beside
    them (health checks, heartbeats, the admin), as children.

    @ivar proxies: the L{ProxyService}s by name.
    """

    def __init__(self, reactor):
        MultiService.__init__(self)
        self.reactor = reactor
        self.proxies = OrderedDict()

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
