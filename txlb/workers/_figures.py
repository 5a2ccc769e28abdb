"""
The other workers' counters, summed: what worker 0 adds to its own in the
admin's status, page and metrics.
"""

#: The counters summed at each level of a status.
SUMMED = {
    "service": ("accepted", "unreachable", "spliced", "resets", "clients"),
    "group": ("waiting", "queued", "refused"),
    "host": ("open", "total", "failed", "bytesIn", "bytesOut"),
}


def sumStatuses(statuses):
    """
    Sum the L{SUMMED} counters of several C{getStatus} results, by
    C{(service,)}, C{(service, group)} and C{(service, group, host)}.
    """
    figures = {}
    for status in statuses:
        for sname, service in status.items():
            _add(figures, (sname,), service, SUMMED["service"])
            _addByKey(figures, (sname,), service, "refusals")
            for gname, group in service.get("groups", {}).items():
                _add(figures, (sname, gname), group, SUMMED["group"])
                for hname, host in group.get("hosts", {}).items():
                    _add(figures, (sname, gname, hname), host, SUMMED["host"])
    return figures


def _add(figures, key, values, names):
    into = figures.setdefault(key, {})
    for name in names:
        value = values.get(name)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            into[name] = into.get(name, 0) + value


def _addByKey(figures, key, values, name):
    # A counter kept by reason ({reason: count}) sums reason by reason.
    into = figures.setdefault(key, {}).setdefault(name, {})
    for reason, value in (values.get(name) or {}).items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            into[reason] = into.get(reason, 0) + value
