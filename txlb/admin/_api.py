"""
The admin's operations on a running balancer. Each one checks everything
before it changes anything: a refused call raises L{AdminError} and leaves
the balancer as it was.
"""

import os
import signal

from twisted.logger import Logger

from txlb.admin import _view
from txlb.admin._faults import BAD_ARGUMENT, CONFLICT, FAILED, NOT_FOUND, AdminError
from txlb.admin._reconfigure import Reconfiguring
from txlb.plain import configOf
from txlb.admin._tls import reloadCertificates
from txlb.backend import DOWN, DRAINING, MAINT, UP
from txlb.config import Group, Host, Service
from txlb.errors import ConfigError


def _bad(e):
    return AdminError(BAD_ARGUMENT, str(e))


class AdminAPI(Reconfiguring):
    """
    Reads and changes a L{LoadBalancer}; every change is followed in the
    running description (C{LoadBalancer.spec}, see L{Reconfiguring}).

    @ivar log: every change is logged once, with the user who made it.
    """

    log = Logger()

    def __init__(self, balancer, builder):
        """
        @param builder: the L{txlb.builder.Builder} that built C{balancer};
            it builds what the admin adds, and its reactor and clock are
            the admin's.
        """
        self.balancer = balancer
        self.builder = builder
        self.reactor = builder.reactor
        self.clock = builder.clock

    # Finding things

    def proxy(self, service):
        proxy = self.balancer.proxies.get(service)
        if proxy is None:
            raise AdminError(NOT_FOUND, f"there is no service named {service!r}")
        return proxy

    def pool(self, service, group):
        proxy = self.proxy(service)
        pool = proxy.pools.get(group)
        if pool is None:
            raise AdminError(NOT_FOUND, f"service {service!r} has no group named {group!r}")
        return proxy, pool

    def host(self, service, group, name):
        proxy, pool = self.pool(service, group)
        host = pool.hosts.get(name)
        if host is None:
            raise AdminError(
                NOT_FOUND, f"group {group!r} of service {service!r} has no host named {name!r}"
            )
        return proxy, pool, host

    def _changed(self, user, what, **fields):
        self.log.info("admin {user}: " + what, user=user or "(local)", **fields)

    # Information

    def listServices(self):
        return list(self.balancer.proxies)

    def getConfig(self):
        return configOf(self.balancer)

    def getStatus(self):
        return _view.status(self.balancer)

    def getRoutes(self, service):
        """
        A service's routes in the order they are tried: C{route}, C{group}
        and C{match} of each (empty when the service does not route).
        """
        return _view.routes(self.proxy(service))

    def getWorkers(self):
        accepted = sum(p.accepted for p in self.balancer.proxies.values())
        return [{"index": 0, "pid": os.getpid(), "state": "running", "restarts": 0, "refused": 0,
                 "accepted": accepted}]

    # Hosts

    def addHost(self, user, service, group, name, address, weight=1):
        """
        Add a host; C{weight} is its weight, or a struct of its settings
        (C{weight}, C{backup}, C{maxconn}).
        """
        _, pool = self.pool(service, group)
        if name in pool.hosts:
            raise AdminError(CONFLICT, f"group {group!r} already has a host named {name!r}")
        if isinstance(weight, dict):
            return self._make(user, "addHost", (service, group, name, address, weight))
        try:
            host = self.builder.host(Host(name, address, weight=weight))
        except ConfigError as e:
            raise _bad(e) from None
        pool.addHost(host)
        self._record("addHost", (service, group, name, address, weight))
        self._changed(user, "added host {host} ({address}) to {service}/{group}",
                      host=name, address=address, service=service, group=group)
        return True

    def delHost(self, user, service, group, name):
        _, pool, _ = self.host(service, group, name)
        pool.removeHost(name)
        self._record("delHost", (service, group, name))
        self._changed(user, "removed host {host} from {service}/{group} (open connections finish)",
                      host=name, service=service, group=group)
        return True

    def delAllHosts(self, user, service, group):
        _, pool = self.pool(service, group)
        names = list(pool.hosts)
        for name in names:
            pool.removeHost(name)
        self._record("delAllHosts", (service, group))
        self._changed(user, "removed all {count} hosts from {service}/{group}",
                      count=len(names), service=service, group=group)
        return len(names)

    def setWeight(self, user, service, group, name, weight):
        if isinstance(weight, bool) or not isinstance(weight, int) or weight < 0:
            raise AdminError(BAD_ARGUMENT, f"a weight must be a whole number of at least 0, not {weight!r}")
        _, pool, _ = self.host(service, group, name)
        pool.setWeight(name, weight)
        self._record("setWeight", (service, group, name, weight))
        self._changed(user, "set the weight of {service}/{group}/{host} to {weight}",
                      service=service, group=group, host=name, weight=weight)
        return True

    def hostAdminDown(self, user, service, group, name):
        _, pool, host = self.host(service, group, name)
        pool.setState(host, MAINT, f"admin down by {user or 'local admin'}")
        return True

    def hostDrain(self, user, service, group, name):
        _, pool, host = self.host(service, group, name)
        pool.setState(host, DRAINING, f"drained by {user or 'local admin'}: open connections finish")
        return True

    def _runningChecker(self, proxy, group):
        checker, _, _ = _view.healthOf(proxy, group)
        return checker if checker is not None and checker.running else None

    def hostAdminUp(self, user, service, group, name):
        proxy, pool, host = self.host(service, group, name)
        checker = self._runningChecker(proxy, group)
        if checker is not None:
            # Never back blindly: the checks bring it up after they pass.
            pool.setState(host, DOWN, f"admin up by {user or 'local admin'}: waiting for checks")
            checker.checkNow(name)
        else:
            pool.setState(host, UP, f"admin up by {user or 'local admin'}")
        return True

    def retryHost(self, user, service, group, name):
        proxy, pool, host = self.host(service, group, name)
        checker = self._runningChecker(proxy, group)
        if checker is not None:
            checker.checkNow(name)
        elif host.state == DOWN:
            pool.setState(host, UP, "retried by admin")
        return True

    # Groups and services

    def newGroup(self, user, service, group, scheduler):
        proxy = self.proxy(service)
        if group in proxy.pools:
            raise AdminError(CONFLICT, f"service {service!r} already has a group named {group!r}")
        try:
            pool = self.builder.pool(Group(group, scheduler=scheduler))
        except ConfigError as e:
            raise _bad(e) from None
        proxy.addPool(pool)
        self._record("newGroup", (service, group, scheduler))
        self._changed(user, "added group {group} ({scheduler}) to {service}",
                      group=group, scheduler=scheduler, service=service)
        return True

    def delGroup(self, user, service, group):
        proxy, _ = self.pool(service, group)
        if proxy.enabledGroup == group:
            raise AdminError(
                CONFLICT, f"group {group!r} is the enabled group of {service!r}; enable another first"
            )
        if proxy.routing is not None and any(r.group == group for r in proxy.routing.routes):
            raise AdminError(
                CONFLICT, f"a route of {service!r} sends to group {group!r}; it cannot be deleted"
            )
        del proxy.pools[group]
        for child in list(proxy):
            if child.name and child.name.endswith(":" + group):
                child.disownServiceParent()
        self._record("delGroup", (service, group))
        self._changed(user, "deleted group {group} of {service}", group=group, service=service)
        return True

    def enableGroup(self, user, service, group):
        proxy, _ = self.pool(service, group)
        proxy.enableGroup(group)
        self._record("enableGroup", (service, group))
        return True

    def changeScheduler(self, user, service, group, scheduler):
        _, pool = self.pool(service, group)
        try:
            maker = self.builder.schedulerMaker(scheduler)
        except ConfigError as e:
            raise _bad(e) from None
        pool.setScheduler(maker, scheduler)
        self._record("changeScheduler", (service, group, scheduler))
        self._changed(user, "scheduler of {service}/{group} is now {scheduler}",
                      service=service, group=group, scheduler=scheduler)
        return True

    def newService(self, user, service, listen):
        if service in self.balancer.proxies:
            raise AdminError(CONFLICT, f"a service named {service!r} exists already")
        listen = [listen] if isinstance(listen, str) else list(listen)
        if not listen or not all(isinstance(l, str) for l in listen):
            raise AdminError(BAD_ARGUMENT, "listen must be an endpoint string or a list of them")
        try:
            spec = Service(service, groups=[Group("default")])
            proxy = self.builder.service(spec)
            failures = []
            for description in listen:
                proxy.addListener(description, onFailure=failures.append)
        except ConfigError as e:
            raise _bad(e) from None
        self.balancer.addProxy(proxy)
        if failures:
            self.balancer.removeProxy(service)
            raise AdminError(FAILED, failures[0])
        self._record("newService", (service, listen))
        self._changed(user, "added service {service} listening on {listen}",
                      service=service, listen=", ".join(listen))
        return True

    def delService(self, user, service):
        self.proxy(service)
        self.balancer.removeProxy(service)
        self._record("delService", (service,))
        self._changed(user, "deleted service {service}", service=service)
        return True

    # Other

    def reloadCertificates(self, user):
        problems = reloadCertificates(self.balancer)
        if problems:
            self._changed(user, "reloaded certificates, keeping some old ones")
            raise AdminError(FAILED, "; ".join(problems))
        self._changed(user, "reloaded certificates")
        return True

    def reopenLog(self, user):
        handler = signal.getsignal(signal.SIGUSR1)
        if not callable(handler):
            raise AdminError(FAILED, "txlb is not logging to a file (twistd --logfile), so there is no log to reopen")
        handler(signal.SIGUSR1, None)
        self._changed(user, "reopened the log")
        return True

    def shutdown(self, user, drainSeconds=None):
        if drainSeconds is not None:
            if isinstance(drainSeconds, bool) or not isinstance(drainSeconds, (int, float)) or drainSeconds < 0:
                raise AdminError(BAD_ARGUMENT, f"drainSeconds must be a number of at least 0, not {drainSeconds!r}")
            for proxy in self.balancer.proxies.values():
                if hasattr(proxy, "drainTimeout"):
                    proxy.drainTimeout = float(drainSeconds)
        self._changed(user, "shutting down")
        self.clock.callLater(0, self.reactor.stop)
        return True
