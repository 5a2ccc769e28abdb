"""
Finding check kinds by name: the built-ins, then Twisted plugins.
"""

from twisted.plugin import getPlugins

from txlb.errors import ConfigError
from txlb.health._checks import http, sendExpect, tcp
from txlb.interfaces import ICheckFactory


def builtinChecks():
    """
    The check kinds txlb ships, in the order they are listed to users.
    """
    return [tcp, sendExpect, http]


def _pluginChecks():
    import twisted.plugins

    try:
        return list(getPlugins(ICheckFactory, twisted.plugins))
    except Exception:
        return []


def allChecks():
    """
    Built-in check factories first, then plugins whose names are not taken.
    """
    factories = builtinChecks()
    taken = {f.name for f in factories}
    for plugin in _pluginChecks():
        if plugin.name not in taken:
            factories.append(plugin)
            taken.add(plugin.name)
    return factories


def makeCheck(spec, reactor, options=None):
    """
    Make an L{ICheck} from a spec such as C{"tcp"}, C{"http:/health"} or
    C{"send-expect:PING\\r\\n:+PONG"}.

    @raise ConfigError: for an unknown kind or a bad argument or option.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ConfigError(f"check {spec!r} must be a kind such as tcp or http:/health")
    name, _, argument = spec.strip().partition(":")
    factories = allChecks()
    for factory in factories:
        if factory.name == name:
            return factory.makeCheck(argument, dict(options or {}), reactor)
    names = ", ".join(f.name for f in factories)
    raise ConfigError(f"unknown check {name!r}; known checks: {names}")
