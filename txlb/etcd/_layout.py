"""
Where the shared description lives under the prefix, and how a node's
description is made from what is stored. No Twisted here.

    PREFIX services/NAME            one service (plain data, JSON)
    PREFIX hosts/SERVICE/GROUP/NAME a self-registered host (JSON: address,
                                    weight), under its agent's lease

One key per service: an admin change rewrites the keys of the services it
touches in one transaction conditioned on their revisions as read, so two
changes to different services never conflict, two changes to one service
are serialised (the second is retried on what the first wrote), and a
watch event always carries a whole, valid service. Registered hosts have a
key each because each one lives and dies with its own lease.
"""

import json

import attr

from txlb.config import Balancer, Host, Service
from txlb.errors import ConfigError
from txlb.plain import fromPlain, toPlain

SERVICES = "services/"
HOSTS = "hosts/"


def serviceKey(prefix, name):
    """
    The key of service C{name}.
    """
    return prefix + SERVICES + name


def hostKey(prefix, service, group, name):
    """
    The key of a self-registered host.
    """
    return prefix + HOSTS + f"{service}/{group}/{name}"


def serviceValue(service):
    """
    A L{Service} as the text stored under its key.
    """
    data = toPlain(service)
    data.pop("name", None)
    return json.dumps(data, sort_keys=True)


def readServices(prefix, kvs):
    """
    The services stored among C{kvs} (L{KeyValue}s), by name, in key
    order; a value that is not a valid service is left out (and named in
    the second result).
    """
    services, bad = {}, []
    for kv in sorted(kvs, key=lambda kv: kv.key):
        if not kv.key.startswith(prefix + SERVICES):
            continue
        name = kv.key[len(prefix + SERVICES):]
        try:
            services[name] = fromPlain(Service, dict(json.loads(kv.value), name=name), f"service {name!r}")
        except (ValueError, TypeError, ConfigError) as e:
            bad.append(f"{kv.key}: {e}")
    return services, bad


def readHosts(prefix, kvs):
    """
    The registered hosts among C{kvs}: C{[(service, group, Host)]}.
    """
    hosts = []
    for kv in sorted(kvs, key=lambda kv: kv.key):
        if not kv.key.startswith(prefix + HOSTS):
            continue
        parts = kv.key[len(prefix + HOSTS):].split("/", 2)
        try:
            data = json.loads(kv.value)
            hosts.append((parts[0], parts[1], Host(parts[2], data["address"], weight=data.get("weight", 1))))
        except (ValueError, TypeError, KeyError, IndexError, ConfigError):
            continue
    return hosts


def nodeDescription(running, services, hosts):
    """
    The description a node runs: C{running} (its own) with the stored
    C{services}; a service it runs keeps its own listeners; the registered
    C{hosts} join their groups (a configured host of the same name wins).
    """
    own = {s.name: s for s in running.services}
    result = []
    for name, service in services.items():
        if name in own:
            service = attr.evolve(service, listen=own[name].listen)
        groups = []
        for group in service.groups:
            names = {h.name for h in group.hosts}
            extra = [h for (s, g, h) in hosts if s == name and g == group.name and h.name not in names]
            groups.append(attr.evolve(group, hosts=list(group.hosts) + extra) if extra else group)
        result.append(attr.evolve(service, groups=groups))
    return attr.evolve(running, services=result)


def withoutRegistered(services, hosts, stored):
    """
    C{services} (a new description's, from C{getConfig} perhaps) without
    the registered C{hosts} that the C{stored} services (by name) do not
    hold: a registered host lives with its lease, never in a service's key.
    """
    leased = {(s, g, h.name, h.address) for (s, g, h) in hosts}
    result = []
    for service in services:
        before = stored.get(service.name)
        kept = {(g.name, h.name) for g in (before.groups if before is not None else ()) for h in g.hosts}
        groups = [attr.evolve(group, hosts=[h for h in group.hosts
                                            if (service.name, group.name, h.name, h.address) not in leased
                                            or (group.name, h.name) in kept])
                  for group in service.groups]
        result.append(attr.evolve(service, groups=groups))
    return result


def storedDescription(services):
    """
    The shared part as a L{Balancer} (services only) for admin changes.
    """
    return Balancer(services=list(services.values()))


def writes(prefix, before, after):
    """
    The puts and deletes that make the stored services C{before} (by name)
    into C{after} (a L{Balancer}): C{(puts, deletes)}.
    """
    puts, deletes = [], []
    now = {s.name: s for s in after.services}
    for name, service in now.items():
        if before.get(name) != service:
            puts.append((serviceKey(prefix, name), serviceValue(service)))
    for name in before:
        if name not in now:
            deletes.append(serviceKey(prefix, name))
    return puts, deletes
