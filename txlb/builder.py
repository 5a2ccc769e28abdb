"""
Turning a description (L{txlb.config.Balancer}) into the running tree of
services. The command line, C{.tac} files, the admin and the tests all come
here, through one L{Builder} that holds the reactor, the clock and the
random source.

The description objects and what each becomes:

    ===================  ==========================================
    description          running object
    ===================  ==========================================
    L{Balancer}          L{txlb.balancer.LoadBalancer}
    L{Service}           L{txlb.proxy.ProxyService}
    L{Group}             L{txlb.pool.Pool}
    L{Host}              L{txlb.backend.Backend}
    L{Admin}             L{txlb.admin.AdminService}
    ===================  ==========================================
"""

import random as _random
from functools import partial

import attr

from txlb.accesslog import AccessLogService
from txlb.address import backendConnector
from txlb.access import AccessList
from txlb.admin import AdminService
from txlb.admin._limits import limitsOf
from txlb.backend import Backend
from txlb.balancer import LoadBalancer
from txlb.clientlimits import ClientTable
from txlb.handover import Handover
from txlb.health import healthServices
from txlb.hostnames import HostNames
from txlb.maxconn import ConnectionCap
from txlb.pool import Pool
from txlb.proxy import ProxyService
from txlb.relaysettings import RelaySettings
from txlb.routing import Routing
from txlb.schedulers import makeScheduler, parseSchedulerSpec, schedulerFactory
from txlb.schedulers._keys import needsHello
from txlb.tls import ServerContexts


class Builder:
    """
    Builds running objects from descriptions.

    @ivar reactor: the reactor to listen and connect with.
    @ivar clock: the clock for timeouts and timers.
    @ivar random: the L{random.Random} schedulers and checks draw from.
    @ivar role: what the tree is in a set of worker processes
        (L{txlb.workers.Supervisor} in worker 0, L{txlb.workers.Worker} in
        the others), or None for a lone process. A role says how relay
        listeners bind (C{bind}: a port every worker shares), whether the
        admin runs here (C{admin}), and adds its own services to the tree
        once built (C{adopt(balancer, builder)}).
    @ivar accessLog: the L{txlb.accesslog.AccessLogService} of the balancer last
        built, which every service built from now on records in; or None.
    """

    def __init__(self, reactor, clock=None, random=None, role=None, accessLog=None):
        """
        @param accessLog: a L{txlb.config.AccessLog} used instead of the
            balancer's own (the C{--access-log} flag), or None.
        """
        self.reactor = reactor
        self.clock = clock if clock is not None else reactor
        self.random = random if random is not None else _random.Random()
        self.role = role
        self.bind = role.bind if role is not None else None
        self.accessLogSpec = accessLog
        self.accessLog = None
        self.hostNames = None
        # The process's maxconn (Balancer(maxconn=...)), shared by every
        # service built after it; None without one.
        self.processCap = None

    def host(self, spec):
        """
        Make a L{Backend} from a L{txlb.config.Host}.
        """
        return self.makeHost(
            spec.name, spec.address, spec.weight, spec.backup, spec.maxconn, spec.tls, proxy=spec.proxy
        )

    def makeHost(self, name, address, weight=1, backup=False, maxconn=None, tls=None, proxy=None):
        """
        Make a L{Backend} from its parts (C{tls}: a L{txlb.config.ClientTLS}
        or None).

        @raise txlb.errors.ConfigError: for a bad address.
        """
        return Backend(
            name,
            address,
            backendConnector(address, self.reactor, tls, self.names()),
            weight=weight,
            backup=backup,
            maxconn=maxconn,
            proxy=proxy,
        )

    def names(self, servers=()):
        """
        The L{HostNames} backends named by host name are resolved with
        (made on first use, asking C{servers}).
        """
        if self.hostNames is None:
            self.hostNames = HostNames(self.reactor, self.clock, servers=servers)
        return self.hostNames

    def schedulerMaker(self, spec, hashKey=None):
        """
        Check a scheduler spec now and return a no-argument callable making
        schedulers from it (a pool makes two: primaries and backups).

        @param hashKey: a function for the scheduler's C{key} option (a
            L{txlb.config.Group}'s C{hashKey}), or None.
        @raise txlb.errors.ConfigError: for an unknown scheduler or option.
        """
        if hashKey is None:
            maker = partial(makeScheduler, spec, self.clock, self.random)
        else:
            name, options = parseSchedulerSpec(spec)
            options["key"] = hashKey
            maker = partial(schedulerFactory(name).makeScheduler, options, self.clock, self.random)
        maker()
        return maker

    def routing(self, spec):
        """
        The L{Routing} of a L{txlb.config.Service}, or None when every
        connection goes to the enabled group and nothing needs the
        ClientHello.

        @raise txlb.errors.ConfigError: for an unknown router plugin.
        """
        hello = any(
            needsHello(group.hashKey or parseSchedulerSpec(group.scheduler)[1].get("key"))
            for group in spec.groups
        )
        if not (spec.routes or spec.router is not None or hello):
            return None
        return Routing(
            spec.name,
            [g.name for g in spec.groups],
            self.clock,
            spec.routes,
            spec.router,
            needsHello=hello,
        )

    def pool(self, spec):
        """
        Make a L{Pool} from a L{txlb.config.Group}, without its health
        services (L{health}).
        """
        pool = Pool(
            spec.name,
            self.schedulerMaker(spec.scheduler, spec.hashKey),
            spec.scheduler,
            self.clock,
            queueSize=spec.queueSize,
            queueTimeout=spec.queueTimeout,
        )
        for host in spec.hosts:
            pool.addHost(self.host(host))
        return pool

    def health(self, spec, pool):
        """
        The health services (not yet started) a L{txlb.config.Group} asks
        for its L{Pool}.
        """
        return healthServices(spec, pool, self.reactor, self.clock, self.random, self.makeHost)

    def service(self, spec):
        """
        Make a L{ProxyService} from a L{txlb.config.Service}.
        """
        proxy = ProxyService(
            spec.name,
            self.reactor,
            self.clock,
            settings=RelaySettings(
                connectTimeout=spec.connectTimeout,
                idleTimeout=spec.idleTimeout,
                maxTries=spec.maxTries,
                bufferSize=spec.bufferSize,
                splice=spec.splice,
                lean=spec.lean,
                helloTimeout=spec.helloTimeout,
                handshakeTimeout=spec.tls.handshakeTimeout if spec.tls is not None else None,
            ),
            drainTimeout=spec.drainTimeout,
            bind=self.bind,
            access=AccessList(spec.allow, spec.deny),
            limits=self.clientLimits(spec),
            maxconn=spec.maxconn,
            processCap=self.processCap,
            proxyHeaderTimeout=spec.proxyHeaderTimeout,
            routing=self.routing(spec),
            tls=ServerContexts(spec.name, spec.tls) if spec.tls is not None else None,
        )
        proxy.accessLog = self.accessLog
        for group in spec.groups:
            pool = self.pool(group)
            proxy.addPool(pool)
            for child in self.health(group, pool):
                child.setServiceParent(proxy)
        if spec.enabledGroup is not None:
            proxy.enableGroup(spec.enabledGroup)
        for description in spec.listen:
            proxy.addListener(description)
        return proxy

    def clientLimits(self, spec):
        """
        The per-client L{ClientTable} a L{txlb.config.Service} asks for, or
        None.
        """
        if spec.maxClientConns is None and spec.maxClientRate is None:
            return None
        return ClientTable(self.clock, spec.maxClientConns, spec.maxClientRate)

    def admin(self, spec, top):
        """
        Add the admin a L{txlb.config.Admin} describes to C{top}.

        @raise txlb.errors.ConfigError: for a bad endpoint or users file, or
            a non-local endpoint without users.
        """
        admin = AdminService(
            top,
            spec.listen,
            self,
            users=spec.users,
            refresh=spec.refresh,
            projectURL=spec.projectURL,
            limits=limitsOf(spec),
            legacyWebAPI=spec.legacyWebAPI,
        )
        admin.setServiceParent(top)
        return admin

    def balancer(self, spec):
        """
        Make the L{LoadBalancer} service tree a L{txlb.config.Balancer}
        describes.

        @raise txlb.errors.ConfigError: for anything wrong in the
            description; nothing is started then.
        """
        if self.accessLogSpec is not None:
            spec = attr.evolve(spec, accessLog=self.accessLogSpec)
        top = LoadBalancer(self.reactor, spec)
        self.accessLog = None
        self.hostNames = None
        if spec.accessLog is not None:
            # The first child: started before the listeners.
            self.accessLog = AccessLogService.fromSpec(spec.accessLog, self.reactor, self.clock)
            self.accessLog.setServiceParent(top)
        self.names(spec.dns).setServiceParent(top)
        if spec.maxconn is not None:
            self.processCap = ConnectionCap("the process", self.clock, spec.maxconn)
        for service in spec.services:
            top.addProxy(self.service(service))
        if self.role is None or self.role.admin:
            for admin in spec.admin:
                self.admin(admin, top)
        if self.role is not None:
            self.role.adopt(top, self)
        if spec.etcd is not None and (self.role is None or self.role.admin):
            from txlb.etcd import share

            share(top, self, spec.etcd)
        if spec.handover is not None and (self.role is None or self.role.admin):
            Handover(top, self, spec.handover).setServiceParent(top)
        return top


def build(balancer, reactor=None, clock=None, random=None):
    """
    Build a L{txlb.config.Balancer} with a new L{Builder}: the one call for
    scripts and tests.

    @param reactor: the reactor to listen and connect with (the global one
        when None).
    """
    if reactor is None:
        from twisted.internet import reactor
    return Builder(reactor, clock, random).balancer(balancer)
