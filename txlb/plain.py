"""
A description (L{txlb.config.Balancer} and the values inside it) as plain
data, and back: what the admin's C{getConfig} answers and C{applyConfig}
takes, what C{--state} files hold.

The plain form is made from the attrs fields of each value, so a field
added to a class of L{txlb.config} is carried without a change here:

    - a description value is a dict of its fields (its class is known from
      where it sits; a value in a field not listed in L{NESTED} also
      carries its class name under C{"class"});
    - a tuple of values that have a C{name} (services, groups, hosts) is a
      struct by name (C{config["services"]["web"]["groups"]["blue"]}),
      in their order; another tuple is a list; a dict stays a dict;
      strings, numbers and booleans stay themselves;
    - a field that is None is left out when None is its default, and is
      written C{false} otherwise (C{"ejection": false}: no ejection);
    - reading, a field left out takes its default.

Everything is XML-RPC and JSON safe (no None). No Twisted here.
"""

import attr

from txlb import config
from txlb.errors import ConfigError

#: Fields holding description values, and their class.
NESTED = {
    (config.Balancer, "services"): config.Service,
    (config.Balancer, "admin"): config.Admin,
    (config.Service, "groups"): config.Group,
    (config.Group, "hosts"): config.Host,
    (config.Group, "check"): config.HealthCheck,
    (config.Group, "ejection"): config.Ejection,
    (config.Group, "heartbeat"): config.Heartbeat,
    (config.Service, "routes"): config.Route,
    (config.Balancer, "accessLog"): config.AccessLog,
    (config.Service, "tls"): config.ServerTLS,
    (config.Host, "tls"): config.ClientTLS,
}

CLASS_KEY = "class"

_FROM_OTHERS = object()


def defaultOf(field):
    """
    The value a field of a description takes when it is not given.
    """
    default = field.default
    if isinstance(default, attr.Factory):
        if default.takes_self:
            # Computed from the other fields (a route's name is its
            # group's): no value of its own to compare with.
            return _FROM_OTHERS
        return default.factory()
    return default


def _value(value, known):
    if attr.has(type(value)):
        data = toPlain(value)
        if known is None or type(value) is not known:
            data[CLASS_KEY] = type(value).__name__
        return data
    if isinstance(value, (tuple, list)):
        if value and all(attr.has(type(v)) and _named(type(v)) for v in value):
            return {v.name: _unnamed(_value(v, known)) for v in value}
        return [_value(v, known) for v in value]
    if isinstance(value, dict):
        return {str(k): _value(v, None) for k, v in value.items()}
    return value


def _named(cls):
    return any(f.name == "name" for f in attr.fields(cls))


def _unnamed(data):
    data.pop("name", None)
    return data


def fieldToPlain(cls, field, value):
    """
    One field's value in plain form (C{false} for None where None is not
    the default); None when the field is left out.
    """
    if value is None:
        return None if defaultOf(field) is None else False
    return _value(value, NESTED.get((cls, field.name)))


def toPlain(value):
    """
    A description value as a dict of plain data.
    """
    cls = type(value)
    data = {}
    for field in attr.fields(cls):
        plain = fieldToPlain(cls, field, getattr(value, field.name))
        if plain is not None:
            data[field.name] = plain
    return data


def _read(data, known, where, collection=False):
    if collection and isinstance(data, dict):
        items = []
        for name, item in data.items():
            if not isinstance(item, dict):
                raise ConfigError(f"{where}[{name!r}] must be a struct of fields, not {type(item).__name__}")
            items.append(_read(dict(item, name=name), known, f"{where}[{name!r}]"))
        return tuple(items)
    if isinstance(data, dict) and (CLASS_KEY in data or known is not None):
        cls = known
        if CLASS_KEY in data:
            cls = getattr(config, str(data[CLASS_KEY]), None)
            if not (isinstance(cls, type) and attr.has(cls)):
                raise ConfigError(f"{where}: {data[CLASS_KEY]!r} is not a description class")
        return fromPlain(cls, data, where)
    if isinstance(data, list):
        return tuple(_read(v, known, where) for v in data)
    return data


def fieldFromPlain(cls, field, data, where):
    """
    One field's value read back from plain form.
    """
    default = defaultOf(field)
    if data is False and not isinstance(default, bool):
        return None
    collection = isinstance(default, tuple)
    return _read(data, NESTED.get((cls, field.name)), f"{where}.{field.name}", collection)


def fromPlain(cls, data, where=None):
    """
    Read a description value of class C{cls} from plain data.

    @raise ConfigError: naming the first thing wrong (an unknown field, a
        value the class refuses).
    """
    where = where or cls.__name__
    if not isinstance(data, dict):
        raise ConfigError(f"{where} must be a struct of fields, not {type(data).__name__}")
    fields = {f.name: f for f in attr.fields(cls)}
    unknown = sorted(set(data) - set(fields) - {CLASS_KEY})
    if unknown:
        raise ConfigError(f"{where} has no field {unknown[0]!r} (known: {', '.join(fields)})")
    kwargs = {}
    for name, value in data.items():
        if name != CLASS_KEY:
            kwargs[name] = fieldFromPlain(cls, fields[name], value, where)
    try:
        return cls(**kwargs)
    except TypeError as e:
        raise ConfigError(f"{where}: {e}") from None


def settings(value, exclude=()):
    """
    The fields of C{value} other than C{exclude}, as plain data (every
    field, None ones written as C{false}): what a C{set*} admin call takes.
    """
    cls = type(value)
    out = {}
    for field in attr.fields(cls):
        if field.name in exclude:
            continue
        plain = fieldToPlain(cls, field, getattr(value, field.name))
        out[field.name] = False if plain is None else plain
    return out


def withSettings(value, data, exclude=(), where=None):
    """
    C{value} with the fields in C{data} (plain, as L{settings} gives)
    changed; the fields in C{exclude} may not be changed this way.

    @raise ConfigError: for an unknown or excluded field or a refused value.
    """
    cls = type(value)
    where = where or f"{cls.__name__} {getattr(value, 'name', '')!r}".rstrip(" ''")
    if not isinstance(data, dict):
        raise ConfigError(f"the settings of {where} must be a struct, not {type(data).__name__}")
    fields = {f.name: f for f in attr.fields(cls) if f.name not in exclude}
    changes = {}
    for name, plain in data.items():
        if name not in fields:
            raise ConfigError(
                f"{where} has no setting {name!r} (settings: {', '.join(fields)})"
            )
        changes[name] = fieldFromPlain(cls, fields[name], plain, where)
    try:
        return attr.evolve(value, **changes)
    except TypeError as e:
        raise ConfigError(f"{where}: {e}") from None


def configOf(balancer):
    """
    The running description of C{balancer} (a L{txlb.balancer.LoadBalancer})
    as plain data: what C{getConfig} answers.
    """
    if balancer.spec is None:
        return {"services": [], "admin": []}
    return toPlain(balancer.spec)
