"""
A description (L{txlb.config.Balancer}) written as the source of a C{.tac}
file that makes the same description: what C{txlbctl dump} prints.

Each description value is written as its class called with the fields
that differ from their defaults, nested values indented; everything else
is Python's C{repr}, which is exact for the strings, numbers, booleans,
lists and dicts a description holds. No Twisted here.
"""

import attr

from txlb.plain import defaultOf

_INDENT = "    "


def _collect(value, names):
    if attr.has(type(value)):
        names.add(type(value).__name__)
        for field in attr.fields(type(value)):
            _collect(getattr(value, field.name), names)
    elif isinstance(value, (tuple, list)):
        for item in value:
            _collect(item, names)
    elif isinstance(value, dict):
        for item in value.values():
            _collect(item, names)


def _source(value, depth):
    if attr.has(type(value)):
        return _call(value, depth)
    if isinstance(value, (tuple, list)):
        if not any(attr.has(type(v)) for v in value):
            return repr(list(value))
        inner = _INDENT * (depth + 1)
        items = "".join(f"{inner}{_source(v, depth + 1)},\n" for v in value)
        return f"[\n{items}{_INDENT * depth}]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {_source(v, depth)}" for k, v in value.items()) + "}"
    return repr(value)


def _call(value, depth):
    cls = type(value)
    parts = []
    for field in attr.fields(cls):
        current = getattr(value, field.name)
        if current == defaultOf(field) and field.name != "name":
            continue
        parts.append(f"{field.name}={_source(current, depth + 1)}")
    text = f"{cls.__name__}({', '.join(parts)})"
    if len(text) + len(_INDENT) * depth <= 100 and "\n" not in text:
        return text
    inner = _INDENT * (depth + 1)
    body = "".join(f"{inner}{p},\n" for p in parts)
    return f"{cls.__name__}(\n{body}{_INDENT * depth})"


def tacSource(balancer, heading=None):
    """
    The text of a C{.tac} file running C{balancer}.

    @param heading: a comment line (without C{#}) put first, or None.
    """
    names = set()
    _collect(balancer, names)
    lines = []
    if heading:
        lines.append(f"# {heading}")
    lines.append(f"from txlb.config import {', '.join(sorted(names))}")
    lines.append("from txlb.tac import application")
    lines.append("")
    lines.append(f"application = application({_source(balancer, 0)})")
    return "\n".join(lines) + "\n"
