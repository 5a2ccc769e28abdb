"""
The admin calls that change a running balancer the way a C{.tac} describes
it (listeners, service, group and host settings, whole services and
groups), and C{applyConfig}, which makes the running balancer match a new
description through the same calls, all or nothing.

Every call is made in two steps: I{prepare} checks it against the
description it will apply to and builds what it needs (pools, hosts,
services, health services: built, not started) without changing anything
that runs; I{commit} swaps that in and cannot fail, except for binding a
new listener, which is done first and undone when it fails. The running
description (C{LoadBalancer.spec}) follows every change (L{txlb.diff}).
"""

import attr

from txlb.admin._faults import BAD_ARGUMENT, CONFLICT, FAILED, NOT_FOUND, AdminError
from txlb.backend import MAINT
from txlb.config import Balancer, Group, Service
from txlb.diff import (
    GROUP_FIXED,
    HOST_FIXED,
    SERVICE_FIXED,
    Change,
    applyChange,
    diff,
    newHost,
)
from txlb.errors import ConfigError
from txlb.plain import fromPlain, withSettings

#: Settings of a group that its health services are built from.
_HEALTH = ("check", "ejection", "slowStart", "heartbeat", "allDown")

#: Each health service (by the prefix of its name) and the group settings
#: it is built from: one whose settings did not change keeps running (a
#: heartbeat listener keeps its port).
_BUILT_FROM = {
    "health": ("check",),
    "ejection": ("ejection", "check"),
    "slowstart": ("slowStart",),
    "heartbeat": ("heartbeat",),
}


def _kindOf(service):
    return (service.name or "").partition(":")[0]


def _bad(e):
    return AdminError(BAD_ARGUMENT, str(e))


class _Step:
    """
    A prepared change: C{commit()} makes it; C{binds} says it binds a new
    listener (done first, undone with C{undo()} when binding fails).
    """

    def __init__(self, commit, binds=False, undo=None):
        self.commit = commit
        self.binds = binds
        self.undo = undo


class Reconfiguring:
    """
    The reconfiguration calls of L{txlb.admin.AdminAPI} (a mixin: it uses
    C{self.balancer}, C{self.builder}, C{self.proxy}, C{self.pool} and
    C{self._changed}).
    """

    # The running description

    def description(self):
        """
        The running description.

        @raise AdminError: when the balancer was not built from one.
        """
        spec = self.balancer.spec
        if spec is None:
            raise AdminError(FAILED, "this balancer was not built from a description, so it cannot be reconfigured")
        return spec

    def _record(self, method, args):
        """
        Follow the change C{method(*args)} (made) in the running description.
        """
        spec = self.balancer.spec
        if spec is None:
            return
        try:
            spec = applyChange(spec, Change(method, args))
        except ConfigError as e:
            # Such as a host that joined by heartbeat: not in the description.
            self.log.info("admin: {method} is not part of the running description: {why}", method=method, why=str(e))
            return
        self.balancer.setSpec(spec)

    def _make(self, user, method, args):
        """
        Prepare and commit one change, log it and record it.
        """
        steps = [self._prepare(self.description(), Change(method, args))]
        self._commit(steps)
        self._record(method, args)
        self._changed(user, "{change}", change=Change(method, args).command())
        return True

    def _commit(self, steps):
        binding = [s for s in steps if s.binds]
        done = []
        for step in binding:
            failure = step.commit()
            done.append(step)
            if failure is not None:
                for made in reversed(done):
                    made.undo()
                raise AdminError(FAILED, failure)
        for step in steps:
            if not step.binds:
                step.commit()

    # Looking things up in a description

    def _service(self, spec, name):
        for service in spec.services:
            if service.name == name:
                return service
        raise AdminError(NOT_FOUND, f"there is no service named {name!r}")

    def _group(self, spec, sname, gname):
        for group in self._service(spec, sname).groups:
            if group.name == gname:
                return group
        raise AdminError(NOT_FOUND, f"service {sname!r} has no group named {gname!r}")

    def _host(self, spec, sname, gname, name):
        for host in self._group(spec, sname, gname).hosts:
            if host.name == name:
                return host
        raise AdminError(NOT_FOUND, f"group {gname!r} of service {sname!r} has no host named {name!r}")

    # Preparing each change

    def _prepare(self, spec, change):
        prepare = getattr(self, "_prepare_" + change.method, None)
        if prepare is None:
            raise AdminError(BAD_ARGUMENT, f"{change.method} cannot be part of a reconfiguration")
        try:
            return prepare(spec, *change.args)
        except ConfigError as e:
            raise _bad(e) from None

    def _prepare_addService(self, spec, name, data):
        if any(s.name == name for s in spec.services):
            raise AdminError(CONFLICT, f"a service named {name!r} exists already")
        if not isinstance(data, dict):
            raise AdminError(BAD_ARGUMENT, "addService takes the service as a struct of its fields")
        service = fromPlain(Service, dict(data, name=name), f"service {name!r}")
        proxy = self.builder.service(service)
        failures = []
        for listener in proxy.listeners:
            listener.onFailure = failures.append

        def commit():
            self.balancer.addProxy(proxy)
            return failures[0] if failures else None

        return _Step(commit, binds=True, undo=lambda: self.balancer.removeProxy(name))

    def _prepare_delService(self, spec, name):
        self._service(spec, name)
        return _Step(lambda: self.balancer.removeProxy(name))

    def _prepare_addListener(self, spec, name, endpoint):
        service = self._service(spec, name)
        if endpoint in service.listen:
            raise AdminError(CONFLICT, f"service {name!r} listens on {endpoint} already")
        from txlb.address import listenEndpoint

        listenEndpoint(endpoint, self.reactor)
        made = []

        def commit():
            failures = []
            made.append(self.balancer.proxies[name].addListener(endpoint, onFailure=failures.append))
            return failures[0] if failures else None

        return _Step(commit, binds=True, undo=lambda: made[0].disownServiceParent())

    def _prepare_delListener(self, spec, name, endpoint):
        if endpoint not in self._service(spec, name).listen:
            raise AdminError(NOT_FOUND, f"service {name!r} does not listen on {endpoint}")

        def commit():
            for listener in self.balancer.proxies[name].listeners:
                if listener.description == endpoint:
                    listener.disownServiceParent()
                    return

        return _Step(commit)

    def _prepare_setService(self, spec, name, data):
        service = withSettings(self._service(spec, name), data, SERVICE_FIXED, f"service {name!r}")
        # Built aside for its settings: one empty group, no listener.
        model = self.builder.service(attr.evolve(service, listen=(), groups=[Group("-")], enabledGroup=None))
        if (model.tls is None) != (getattr(self.balancer.proxies[name], "tls", None) is None):
            raise AdminError(
                CONFLICT,
                f"service {name!r}: TLS is turned on or off with its listeners; "
                "delete the service and add it again",
            )

        def commit():
            proxy = self.balancer.proxies[name]
            proxy.settings = model.settings
            proxy.drainTimeout = model.drainTimeout
            if model.tls is not None:
                # New handshakes use the new certificates.
                proxy.tls.adopt(model.tls)
            proxy.updateEdge(model)

        return _Step(commit)

    def _prepare_addGroup(self, spec, sname, gname, data):
        service = self._service(spec, sname)
        if any(g.name == gname for g in service.groups):
            raise AdminError(CONFLICT, f"service {sname!r} already has a group named {gname!r}")
        if not isinstance(data, dict):
            raise AdminError(BAD_ARGUMENT, "addGroup takes the group as a struct of its fields")
        group = fromPlain(Group, dict(data, name=gname), f"group {gname!r}")
        pool = self.builder.pool(group)
        health = self.builder.health(group, pool)

        def commit():
            proxy = self.balancer.proxies[sname]
            proxy.addPool(pool)
            for child in health:
                self._adoptHealth(proxy, gname, child)

        return _Step(commit)

    def _adoptHealth(self, proxy, gname, child):
        workers = self.balancer.workers
        if workers is not None and _kindOf(child) == "heartbeat":
            # As L{txlb.workers.Supervisor.adopt} does for the first ones.
            child.forward = workers.heartbeatForwarder(proxy.name, gname)
        child.setServiceParent(proxy)

    def _prepare_delGroup(self, spec, sname, gname):
        service = self._service(spec, sname)
        self._group(spec, sname, gname)
        enabled = service.enabledGroup or service.groups[0].name
        if enabled == gname:
            raise AdminError(CONFLICT, f"group {gname!r} is the enabled group of {sname!r}; enable another first")

        def commit():
            proxy = self.balancer.proxies[sname]
            del proxy.pools[gname]
            for child in list(proxy):
                if child.name and child.name.endswith(":" + gname):
                    child.disownServiceParent()

        return _Step(commit)

    def _prepare_enableGroup(self, spec, sname, gname):
        self._group(spec, sname, gname)
        return _Step(lambda: self.balancer.proxies[sname].enableGroup(gname))

    def _prepare_setGroup(self, spec, sname, gname, data):
        old = self._group(spec, sname, gname)
        new = withSettings(old, data, GROUP_FIXED, f"group {gname!r}")
        maker = self.builder.schedulerMaker(new.scheduler) if new.scheduler != old.scheduler else None
        rebuild = any(getattr(old, f) != getattr(new, f) for f in _HEALTH)
        health = None
        replaced = {
            kind for kind, fields in _BUILT_FROM.items()
            if any(getattr(old, f) != getattr(new, f) for f in fields)
        }
        if rebuild:
            pool = self.balancer.proxies[sname].pools[gname]
            before = pool.allDown
            try:
                health = self.builder.health(new, pool)
            finally:
                pool.allDown = before

        def commit():
            proxy = self.balancer.proxies[sname]
            pool = proxy.pools[gname]
            if maker is not None:
                pool.setScheduler(maker, new.scheduler)
            pool.queueSize = new.queueSize
            pool.queueTimeout = new.queueTimeout
            if health is not None:
                pool.allDown = new.allDown
                for child in list(proxy):
                    if child.name and child.name.endswith(":" + gname) and _kindOf(child) in replaced:
                        child.disownServiceParent()
                for child in health:
                    if _kindOf(child) in replaced:
                        self._adoptHealth(proxy, gname, child)

        return _Step(commit)

    def _prepare_addHost(self, spec, sname, gname, name, address, options=None):
        group = self._group(spec, sname, gname)
        if any(h.name == name for h in group.hosts) or name in self.balancer.proxies[sname].pools[gname].hosts:
            raise AdminError(CONFLICT, f"group {gname!r} already has a host named {name!r}")
        host = self.builder.host(newHost(name, address, options))
        return _Step(lambda: self.balancer.proxies[sname].pools[gname].addHost(host))

    def _prepare_setHost(self, spec, sname, gname, name, data):
        old = self._host(spec, sname, gname, name)
        new = withSettings(old, data, HOST_FIXED, f"host {name!r}")
        if attr.evolve(old, weight=new.weight) == new:
            return _Step(lambda: self.balancer.proxies[sname].pools[gname].setWeight(name, new.weight))
        backend = self.builder.host(new)

        def commit():
            pool = self.balancer.proxies[sname].pools[gname]
            gone = pool.removeHost(name)
            if gone.state == MAINT:
                backend.state = MAINT
            pool.addHost(backend)

        return _Step(commit)

    def _prepare_delHost(self, spec, sname, gname, name):
        self._host(spec, sname, gname, name)
        return _Step(lambda: self.balancer.proxies[sname].pools[gname].removeHost(name))

    # The calls

    def addService(self, user, service, config):
        return self._make(user, "addService", (service, config))

    def addListener(self, user, service, endpoint):
        return self._make(user, "addListener", (service, endpoint))

    def delListener(self, user, service, endpoint):
        return self._make(user, "delListener", (service, endpoint))

    def setService(self, user, service, settings):
        return self._make(user, "setService", (service, settings))

    def addGroup(self, user, service, group, config):
        return self._make(user, "addGroup", (service, group, config))

    def setGroup(self, user, service, group, settings):
        return self._make(user, "setGroup", (service, group, settings))

    def setHost(self, user, service, group, name, settings):
        return self._make(user, "setHost", (service, group, name, settings))

    def applyConfig(self, user, config):
        """
        Make the running balancer match the description C{config} (plain
        data, as C{getConfig} answers): all or nothing. Returns the changes
        made, as C{txlbctl} command lines.
        """
        spec = self.description()
        try:
            target = fromPlain(Balancer, config, "the new configuration")
        except ConfigError as e:
            raise _bad(e) from None
        return self.reconfigure(user, spec, target)

    def reconfigure(self, user, spec, target, why="applied a new configuration"):
        """
        Make the running balancer (described by C{spec}) match the
        description C{target}, all or nothing; return the changes made as
        C{txlbctl} command lines.

        @raise AdminError: naming the first change that cannot be made;
            then nothing changed.
        """
        changes = diff(spec, target)
        steps = []
        current = spec
        for change in changes:
            try:
                steps.append(self._prepare(current, change))
            except AdminError as e:
                raise AdminError(e.code, f"{change.command()}: {e.message}") from None
            current = applyChange(current, change)
        self._commit(steps)
        # Admin endpoints change at a restart; the rest is the target's.
        self.balancer.setSpec(attr.evolve(current, admin=spec.admin))
        lines = [c.command() for c in changes]
        self._changed(user, why + " ({count} changes)", count=len(lines))
        for line in lines:
            self.log.info("  {change}", change=line)
        return lines


__all__ = ["Reconfiguring"]
