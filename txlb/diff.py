"""
The difference between two descriptions (L{txlb.config.Balancer}) as an
ordered list of admin calls, and what each admin call does to a
description. No Twisted here: the admin (L{txlb.admin}) makes the same
calls on the running balancer.

A change is a L{Change}: the XML-RPC method and its arguments (plain data,
see L{txlb.plain}). L{diff} orders them so that a service never lacks
hosts on the way: everything new is added first (services and groups come
with their hosts), then groups are enabled and settings changed, and only
then are hosts, groups, listeners and services removed.

What is compared: services, their listeners, settings, groups (the
enabled one included), group settings and hosts, by name; the order of
services, groups, hosts and listeners is not a difference. The admin
endpoints are not compared: they change at a restart.
"""

import json
import shlex

import attr

from txlb.config import Balancer, Group, Host, Service
from txlb.errors import ConfigError
from txlb.plain import fromPlain, settings, toPlain, withSettings

#: Fields each C{set*} call leaves alone (they have their own calls).
SERVICE_FIXED = ("name", "listen", "groups", "enabledGroup")
GROUP_FIXED = ("name", "hosts")
HOST_FIXED = ("name",)

#: method: the txlbctl command making it.
COMMANDS = {
    "addService": "add-service",
    "delService": "del-service",
    "newService": "new-service",
    "addListener": "add-listener",
    "delListener": "del-listener",
    "setService": "set-service",
    "addGroup": "add-group",
    "newGroup": "new-group",
    "delGroup": "del-group",
    "enableGroup": "enable-group",
    "setGroup": "set-group",
    "changeScheduler": "scheduler",
    "addHost": "add-host",
    "setHost": "set-host",
    "setWeight": "weight",
    "delHost": "del-host",
    "delAllHosts": "del-all-hosts",
}


@attr.s(frozen=True)
class Change:
    """
    One admin call: C{method} with C{args} (plain data, without the user).
    """

    method = attr.ib()
    args = attr.ib(converter=tuple)

    def command(self):
        """
        The C{txlbctl} command line making this change (structs as JSON).
        """
        words = ["txlbctl", COMMANDS[self.method]]
        for arg in self.args:
            if isinstance(arg, (dict, list)):
                arg = json.dumps(arg, sort_keys=True, separators=(",", ":"))
            words.append(shlex.quote(str(arg)))
        return " ".join(words)


def enabledOf(service):
    """
    The group a service sends new clients to.
    """
    if service.enabledGroup is not None:
        return service.enabledGroup
    return service.groups[0].name


def normal(balancer):
    """
    C{balancer} with every service's enabled group named: two descriptions
    that run the same have the same normal form, up to order.
    """
    return attr.evolve(
        balancer,
        services=[attr.evolve(s, enabledGroup=enabledOf(s)) for s in balancer.services],
    )


def canonical(balancer):
    """
    A value equal for two descriptions exactly when L{diff} finds nothing
    between them.
    """
    services = []
    for s in sorted(balancer.services, key=lambda s: s.name):
        groups = [
            attr.evolve(g, hosts=sorted(g.hosts, key=lambda h: h.name))
            for g in sorted(s.groups, key=lambda g: g.name)
        ]
        services.append(
            attr.evolve(s, listen=sorted(set(s.listen)), groups=groups, enabledGroup=enabledOf(s))
        )
    return tuple(services)


def _byName(items):
    return {item.name: item for item in items}


def _changed(old, new, exclude):
    before, after = settings(old, exclude), settings(new, exclude)
    return {k: v for k, v in after.items() if before.get(k) != v}


def diff(old, new):
    """
    The changes (a list of L{Change}) that make a balancer described by
    C{old} run as C{new} describes, in an order that never leaves a
    service without hosts.
    """
    adds, middles, removes, last = [], [], [], []
    oldServices, newServices = _byName(old.services), _byName(new.services)
    for name, service in newServices.items():
        if name not in oldServices:
            adds.append(Change("addService", [name, toPlain(attr.evolve(service, enabledGroup=enabledOf(service)))]))
            continue
        a, b = _serviceChanges(oldServices[name], service)
        adds += a
        middles += b[0]
        removes += b[1]
    for name in oldServices:
        if name not in newServices:
            last.append(Change("delService", [name]))
    return adds + middles + removes + last


def _serviceChanges(old, new):
    name = new.name
    adds, middles, removes = [], [], []
    for endpoint in new.listen:
        if endpoint not in old.listen:
            adds.append(Change("addListener", [name, endpoint]))
    oldGroups, newGroups = _byName(old.groups), _byName(new.groups)
    for gname, group in newGroups.items():
        if gname not in oldGroups:
            adds.append(Change("addGroup", [name, gname, toPlain(group)]))
            continue
        before = oldGroups[gname]
        groupSettings = _changed(before, group, GROUP_FIXED)
        if groupSettings:
            adds.append(Change("setGroup", [name, gname, groupSettings]))
        oldHosts, newHosts = _byName(before.hosts), _byName(group.hosts)
        for hname, host in newHosts.items():
            if hname not in oldHosts:
                options = {k: v for k, v in toPlain(host).items() if k not in ("name", "address")}
                adds.append(Change("addHost", [name, gname, hname, host.address, options]))
            else:
                hostSettings = _changed(oldHosts[hname], host, HOST_FIXED)
                if hostSettings:
                    adds.append(Change("setHost", [name, gname, hname, hostSettings]))
        for hname in oldHosts:
            if hname not in newHosts:
                removes.append(Change("delHost", [name, gname, hname]))
    if enabledOf(new) != enabledOf(old):
        middles.append(Change("enableGroup", [name, enabledOf(new)]))
    serviceSettings = _changed(old, new, SERVICE_FIXED)
    if serviceSettings:
        middles.append(Change("setService", [name, serviceSettings]))
    for gname in oldGroups:
        if gname not in newGroups:
            removes.append(Change("delGroup", [name, gname]))
    for endpoint in old.listen:
        if endpoint not in new.listen:
            removes.append(Change("delListener", [name, endpoint]))
    return adds, (middles, removes)


# What each call does to a description.


def _service(balancer, name):
    for service in balancer.services:
        if service.name == name:
            return service
    raise ConfigError(f"there is no service named {name!r}")


def _group(service, name):
    for group in service.groups:
        if group.name == name:
            return group
    raise ConfigError(f"service {service.name!r} has no group named {name!r}")


def _host(group, name):
    for host in group.hosts:
        if host.name == name:
            return host
    raise ConfigError(f"group {group.name!r} has no host named {name!r}")


def _replace(items, new):
    return [new if item.name == new.name else item for item in items]


def _withService(balancer, name, change):
    service = change(_service(balancer, name))
    return attr.evolve(balancer, services=_replace(balancer.services, service))


def _withGroup(balancer, sname, gname, change):
    def inService(service):
        group = change(_group(service, gname))
        return attr.evolve(service, groups=_replace(service.groups, group))

    return _withService(balancer, sname, inService)


def _withHosts(balancer, sname, gname, change):
    return _withGroup(balancer, sname, gname, lambda g: attr.evolve(g, hosts=change(g)))


def hostOptions(address, options):
    """
    The keyword arguments of L{Host} that C{addHost}'s fifth argument
    gives: a whole number (the weight, as ever) or a struct of host
    settings (C{weight}, C{backup}, C{maxconn}, ...).
    """
    if options is None:
        return {}
    if isinstance(options, dict):
        return {k: v for k, v in options.items()}
    return {"weight": options}


def newHost(name, address, options=None):
    """
    The L{Host} C{addHost(service, group, name, address, options)} adds.

    @raise ConfigError: for a bad setting.
    """
    data = dict(hostOptions(address, options))
    data.update(name=name, address=address)
    return fromPlain(Host, data, f"host {name!r}")


def _addHost(b, s, g, name, address, options=None):
    host = newHost(name, address, options)
    return _withHosts(b, s, g, lambda group: list(group.hosts) + [host])


def _addGroup(b, s, g, data):
    group = fromPlain(Group, dict(data, name=g), f"group {g!r}")
    return _withService(b, s, lambda svc: attr.evolve(svc, groups=list(svc.groups) + [group]))


def _addService(b, s, data):
    service = fromPlain(Service, dict(data, name=s), f"service {s!r}")
    return attr.evolve(b, services=list(b.services) + [service])


def _delGroup(b, s, g):
    def without(service):
        enabled = enabledOf(service)
        if enabled == g:
            raise ConfigError(f"group {g!r} is the enabled group of {s!r}; enable another first")
        groups = [x for x in service.groups if x.name != g]
        return attr.evolve(service, groups=groups, enabledGroup=enabled)

    return _withService(b, s, without)


def _listen(b, s, endpoints):
    return _withService(b, s, lambda svc: attr.evolve(svc, listen=endpoints(svc)))


_APPLY = {
    "addService": _addService,
    "newService": lambda b, s, listen: _addService(
        b, s, {"listen": listen, "groups": [{"name": "default"}]}
    ),
    "delService": lambda b, s: attr.evolve(b, services=[x for x in b.services if x.name != s]),
    "addListener": lambda b, s, e: _listen(b, s, lambda svc: list(svc.listen) + [e]),
    "delListener": lambda b, s, e: _listen(b, s, lambda svc: [x for x in svc.listen if x != e]),
    "setService": lambda b, s, data: _withService(
        b, s, lambda svc: withSettings(svc, data, SERVICE_FIXED, f"service {s!r}")
    ),
    "addGroup": _addGroup,
    "newGroup": lambda b, s, g, scheduler: _addGroup(b, s, g, {"scheduler": scheduler}),
    "delGroup": lambda b, s, g: _delGroup(b, s, _group(_service(b, s), g).name),
    "enableGroup": lambda b, s, g: _withService(
        b, s, lambda svc: attr.evolve(svc, enabledGroup=_group(svc, g).name)
    ),
    "setGroup": lambda b, s, g, data: _withGroup(
        b, s, g, lambda grp: withSettings(grp, data, GROUP_FIXED, f"group {g!r}")
    ),
    "changeScheduler": lambda b, s, g, scheduler: _withGroup(
        b, s, g, lambda grp: attr.evolve(grp, scheduler=scheduler)
    ),
    "addHost": _addHost,
    "setHost": lambda b, s, g, h, data: _withHosts(
        b, s, g, lambda grp: _replace(grp.hosts, withSettings(_host(grp, h), data, HOST_FIXED, f"host {h!r}"))
    ),
    "setWeight": lambda b, s, g, h, w: _withHosts(
        b, s, g, lambda grp: _replace(grp.hosts, attr.evolve(_host(grp, h), weight=w))
    ),
    "delHost": lambda b, s, g, h: _withHosts(
        b, s, g, lambda grp: [x for x in grp.hosts if x.name != _host(grp, h).name]
    ),
    "delAllHosts": lambda b, s, g: _withHosts(b, s, g, lambda grp: []),
}

#: The admin calls that change the description.
DESCRIBED = frozenset(_APPLY)


def applyChange(balancer, change):
    """
    The description C{balancer} becomes after C{change} (a L{Change}); a
    call that changes no description (such as C{hostAdminDown}) leaves it.

    @raise ConfigError: when the change cannot be made to it.
    """
    apply = _APPLY.get(change.method)
    if apply is None:
        return balancer
    return apply(balancer, *change.args)


def applyChanges(balancer, changes):
    """
    The description C{balancer} becomes after every change in C{changes}.
    """
    for change in changes:
        balancer = applyChange(balancer, change)
    return balancer


__all__ = ["Balancer", "Change", "diff", "applyChange", "applyChanges", "canonical", "normal"]
