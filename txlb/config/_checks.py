"""
The checks the description values run on what a user wrote: one sentence
per mistake.
"""

from txlb.access import parseNetwork
from txlb.errors import ConfigError


def _name(kind):
    def check(instance, attribute, value):
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"a {kind} name must be a non-empty string, not {value!r}")

    return check


def _number(what, minimum=0, integer=False, optional=False, above=False):
    def check(instance, attribute, value):
        if value is None and optional:
            return
        kinds = (int,) if integer else (int, float)
        if isinstance(value, bool) or not isinstance(value, kinds):
            noun = "a whole number" if integer else "a number"
            raise ConfigError(f"{what} must be {noun}, not {value!r}")
        if value < minimum or (above and value == minimum):
            relation = "above" if above else "at least"
            raise ConfigError(f"{what} must be {relation} {minimum}, not {value!r}")

    return check


def _strings(value):
    if isinstance(value, str):
        return (value,)
    return tuple(value)


def _unique(kind):
    def check(instance, attribute, value):
        seen = set()
        for item in value:
            if item.name in seen:
                raise ConfigError(f"two {kind}s are named {item.name!r}")
            seen.add(item.name)

    return check


def _allOf(cls, kind):
    def check(instance, attribute, value):
        for item in value:
            if not isinstance(item, cls):
                raise ConfigError(f"{kind} {item!r} must be a {cls.__name__}(...)")

    return check


def _file(what):
    def check(instance, attribute, value):
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise ConfigError(f"{what} must be a file name, not {value!r}")

    return check


def _optional(cls, what):
    def check(instance, attribute, value):
        if value is not None and not isinstance(value, cls):
            raise ConfigError(f"{what} must be a {cls.__name__}(...) or None, not {value!r}")

    return check


def _networks(what):
    def check(instance, attribute, value):
        for text in value:
            try:
                parseNetwork(text)
            except ValueError as e:
                raise ConfigError(f"{what}: {e}") from None

    return check


def _optionalPath(what):
    def check(instance, attribute, value):
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise ConfigError(f"{what} must be the path of a UNIX socket, not {value!r}")

    return check
