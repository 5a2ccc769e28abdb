"""
Finding scheduler factories by name: the built-ins, then Twisted plugins.
"""

import random as _random

from twisted.plugin import getPlugins

from txlb.errors import ConfigError, UnknownScheduler
from txlb.interfaces import ISchedulerFactory
from txlb.schedulers import first, hash, leastconns, maglev, p2c, random, roundrobin, sticky


def builtinFactories():
    """
    The schedulers txlb ships, in the order they are listed to users.
    """
    return [
        roundrobin.factory,
        leastconns.factory,
        random.factory,
        p2c.factory,
        hash.factory,
        maglev.factory,
        sticky.stickyFactory(makeScheduler),
        first.factory,
    ]


def _pluginFactories():
    import twisted.plugins

    try:
        return list(getPlugins(ISchedulerFactory, twisted.plugins))
    except Exception:
        return []


def allFactories():
    """
    Built-in factories first, then plugins whose names are not taken.
    """
    factories = builtinFactories()
    taken = {name for f in factories for name in (f.name, *f.aliases)}
    for plugin in _pluginFactories():
        if plugin.name not in taken:
            factories.append(plugin)
            taken.add(plugin.name)
    return factories


def knownSchedulers():
    """
    Return C{[(name, aliases, description), ...]} for every scheduler found.
    """
    return [(f.name, tuple(f.aliases), f.description) for f in allFactories()]


def schedulerFactory(name):
    """
    Find the factory for C{name} (a name or an alias).

    @raise UnknownScheduler: naming the known schedulers.
    """
    factories = allFactories()
    for f in factories:
        if name == f.name or name in f.aliases:
            return f
    names = ", ".join(f.name for f in factories)
    raise UnknownScheduler(f"unknown scheduler {name!r}; known schedulers: {names}")


def parseSchedulerSpec(spec):
    """
    Split C{"name:key=value,key=value"} (or C{"name:value"} for a scheduler's
    first option) into C{(name, options)}.

    @raise ConfigError: for an empty name or a malformed option.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ConfigError(f"scheduler {spec!r} must be a non-empty name")
    name, _, rest = spec.strip().partition(":")
    options = {}
    if rest:
        for item in rest.split(","):
            key, eq, value = item.partition("=")
            if not eq or not key:
                raise ConfigError(
                    f"scheduler option {item!r} in {spec!r} must be written key=value"
                )
            options[key.strip()] = value.strip()
    return name, options


def makeScheduler(spec, clock=None, random=None):
    """
    Make a scheduler from a spec such as C{"roundrobin"} or C{"hash:load=1.25"}.

    @param clock: an L{IReactorTime}; the global reactor when None.
    @param random: a L{random.Random}; a new one when None.
    """
    name, options = parseSchedulerSpec(spec)
    factory = schedulerFactory(name)
    if clock is None:
        from twisted.internet import reactor as clock
    if random is None:
        random = _random.Random()
    return factory.makeScheduler(options, clock, random)
