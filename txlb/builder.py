"""
Turning a description (L{txlb.config.Balancer}) into the running tree of
services. The command line, C{.tac} files and the tests all come here.
"""

import random as _random
from functools import partial

from txlb.address import backendConnector
from txlb.backend import Backend
from txlb.balancer import LoadBalancer
from txlb.pool import Pool
from txlb.proxy import ProxyService
from txlb.schedulers import makeScheduler


def _reactor(reactor):
    if reactor is None:
        from twisted.internet import reactor
    return reactor


def buildHost(spec, reactor):
    """
    Make a L{Backend} from a L{txlb.config.Host}.
    """
    return Backend(
        spec.name,
        spec.address,
        backendConnector(spec.address, reactor),
        weight=spec.weight,
        backup=spec.backup,
        maxconn=spec.maxconn,
    )


def schedulerMaker(spec, clock, random):
    """
    Check a scheduler spec now and return a no-argument callable making
    schedulers from it (a pool makes two: primaries and backups).

    @raise txlb.errors.ConfigError: for an unknown scheduler or option.
    """
    maker = partial(makeScheduler, spec, clock, random)
    maker()
    return maker


def buildPool(spec, reactor, clock=None, random=None):
    """
    Make a L{Pool} from a L{txlb.config.Group}.
    """
    reactor = _reactor(reactor)
    clock = clock if clock is not None else reactor
    random = random if random is not None else _random.Random()
    pool = Pool(
        spec.name,
        schedulerMaker(spec.scheduler, clock, random),
        spec.scheduler,
        clock,
        queueSize=spec.queueSize,
        queueTimeout=spec.queueTimeout,
    )
    for host in spec.hosts:
        pool.addHost(buildHost(host, reactor))
    return pool


def buildService(spec, reactor, clock=None, random=None):
    """
    Make a L{ProxyService} from a L{txlb.config.Service}.
    """
    reactor = _reactor(reactor)
    proxy = ProxyService(
        spec.name,
        reactor,
        clock=clock,
        connectTimeout=spec.connectTimeout,
        idleTimeout=spec.idleTimeout,
        maxTries=spec.maxTries,
        bufferSize=spec.bufferSize,
        drainTimeout=spec.drainTimeout,
        splice=spec.splice,
    )
    for group in spec.groups:
        pool = buildPool(group, reactor, clock, random)
        proxy.addPool(pool)
        _addHealth(proxy, group, pool, reactor, clock, random)
    if spec.enabledGroup is not None:
        proxy.enableGroup(spec.enabledGroup)
    for description in spec.listen:
        proxy.addListener(description)
    return proxy


def _addHealth(proxy, group, pool, reactor, clock, random):
    """
    Add the health services C{group} asks for to C{proxy}.
    """
    from txlb.config import Host
    from txlb.health import healthServices

    def makeHost(name, address, weight):
        return buildHost(Host(name, address, weight=weight), reactor)

    clock = clock if clock is not None else reactor
    random = random if random is not None else _random.Random()
    for child in healthServices(group, pool, reactor, clock, random, makeHost):
        child.setServiceParent(proxy)


def build(balancer, reactor=None, clock=None, random=None):
    """
    Make the L{LoadBalancer} service tree a L{txlb.config.Balancer} describes.

    @param reactor: the reactor to listen and connect with (the global one
        when None).
    @param clock: the clock for timeouts (the reactor when None).
    @param random: a L{random.Random} for schedulers that draw lots.
    @raise txlb.errors.ConfigError: for anything wrong in the description;
        nothing is started then.
    """
    reactor = _reactor(reactor)
    top = LoadBalancer(reactor)
    for service in balancer.services:
        top.addProxy(buildService(service, reactor, clock, random))
    for admin in balancer.admin:
        buildAdmin(admin, top, reactor, clock, random)
    return top


def buildAdmin(spec, top, reactor, clock=None, random=None):
    """
    Add the admin a L{txlb.config.Admin} describes to C{top}.

    @raise txlb.errors.ConfigError: for a bad endpoint or users file, or a
        non-local endpoint without users.
    """
    from txlb.admin import AdminService
    from txlb.admin._limits import limitsOf

    admin = AdminService(
        top,
        spec.listen,
        reactor,
        users=spec.users,
        refresh=spec.refresh,
        projectURL=spec.projectURL,
        clock=clock,
        random=random,
        limits=limitsOf(spec),
    )
    admin.setServiceParent(top)
    return admin
