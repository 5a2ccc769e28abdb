"""
What C{txlb check} and C{twistd txlb --dry-run} print: every object of a
L{txlb.config.Balancer}, one line each, with every setting (defaults
included), indented by where it sits.

It reads the frozen values generically (their C{attrs} fields), so a new
setting shows up here the day it is added to L{txlb.config}.
"""

import attr


def _text(value):
    if value is None:
        return "none"
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (tuple, list)):
        return ",".join(_text(v) for v in value) or "none"
    if isinstance(value, dict):
        return ",".join(f"{k}={_text(v)}" for k, v in sorted(value.items())) or "none"
    return str(value)


def _isSpec(value):
    return attr.has(type(value))


def _isSpecs(value):
    return isinstance(value, (tuple, list)) and value and all(_isSpec(v) for v in value)


def _line(spec, depth, label):
    fields = attr.fields(type(spec))
    head = f"{label} {spec.name}" if "name" in {f.name for f in fields} else label
    settings = [
        f"{f.name}={_text(getattr(spec, f.name))}"
        for f in fields
        if f.name != "name" and not _isSpec(getattr(spec, f.name)) and not _isSpecs(getattr(spec, f.name))
    ]
    return "  " * depth + head + (": " + " ".join(settings) if settings else "")


def describe(spec, depth=0, label=None):
    """
    The lines describing C{spec} (a L{txlb.config.Balancer} or any of its
    parts) and everything inside it; C{label} names it (by default its
    class's name in lower case; a part held in a field is labelled with the
    field's name, such as C{check}).
    """
    lines = []
    if type(spec).__name__ != "Balancer":
        lines.append(_line(spec, depth, label or type(spec).__name__.lower()))
        depth += 1
    else:
        # The process-wide settings (maxconn), beside its services and admins.
        own = [
            f"{f.name}={_text(getattr(spec, f.name))}"
            for f in attr.fields(type(spec))
            if f.name not in ("services", "admin")
        ]
        if own:
            lines.append("balancer: " + " ".join(own))
    for f in attr.fields(type(spec)):
        value = getattr(spec, f.name)
        if _isSpec(value):
            lines.extend(describe(value, depth, f.name))
        elif _isSpecs(value):
            for item in value:
                more = describe(item, depth)
                if _enabled(spec, item):
                    first, sep, rest = more[0].partition(":")
                    more[0] = f"{first} (enabled){sep}{rest}"
                lines.extend(more)
    return lines


def _enabled(parent, item):
    if type(parent).__name__ != "Service" or type(item).__name__ != "Group":
        return False
    return item.name == (parent.enabledGroup or parent.groups[0].name)


def specOf(top):
    """
    The L{txlb.config.Balancer} that C{top} (an C{IService} tree) was
    built from, or None when it was built some other way.
    """
    found = getattr(top, "spec", None)
    if found is not None:
        return found
    for child in getattr(top, "services", ()):
        found = specOf(child)
        if found is not None:
            return found
    return None


def dryRun(top, what, workers="1"):
    """
    Print what C{top} would run (for C{--dry-run} and C{txlb check}) and
    return the exit status: 0, or 1 when C{top} holds no txlb balancer.

    @param workers: the C{--workers} flag, printed when not 1.
    """
    if str(workers) != "1":
        print(f"workers: {workers} processes sharing the listeners")
    spec = specOf(top)
    if spec is None:
        lines = describeTree(top)
        if not lines:
            print(f"{what}: this application holds no txlb balancer")
            return 1
        for line in lines:
            print(line)
        return 0
    for line in describe(spec):
        print(line)
    if not spec.admin:
        print("admin: none (add --admin or Admin(...) to change things at runtime)")
    return 0


def describeTree(top):
    """
    The services, groups and hosts of a running tree (for a balancer not
    built from a L{txlb.config.Balancer}, such as C{--demo}).
    """
    lines = []
    for balancer in _walk(top):
        for proxy in getattr(balancer, "proxies", {}).values():
            listen = ",".join(l.description for l in proxy.listeners) or "none"
            lines.append(f"service {proxy.name}: listen={listen}")
            for pool in proxy.pools.values():
                mark = " (enabled)" if pool.name == proxy.enabledGroup else ""
                lines.append(f"  group {pool.name}{mark}: scheduler={pool.schedulerSpec}")
                for host in pool.hosts.values():
                    lines.append(
                        f"    host {host.name}: address={host.address} weight={host.weight} "
                        f"backup={_text(bool(host.backup))} maxconn={_text(host.maxconn)}"
                    )
    return lines


def _walk(service):
    yield service
    for child in getattr(service, "services", ()):
        yield from _walk(child)
