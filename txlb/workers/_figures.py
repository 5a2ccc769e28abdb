"""
The other workers' counters, summed: what worker 0 adds to its own in the
admin's status, page and metrics.
"""

from txlb._sums import addFigures

#: The counters summed at each level of a status.
SUMMED = {
    "service": ("accepted", "unreachable", "spliced", "resets", "lean", "clients", "refusals"),
    "group": ("waiting", "queued", "refused", "refusals", "connectTimes", "sessionTimes"),
    "host": ("open", "total", "failed", "bytesIn", "bytesOut"),
    "route": ("connections", "bytesIn", "bytesOut"),
}


def sumStatuses(statuses):
    """
    Sum the L{SUMMED} counters of several C{getStatus} results, by
    C{(service,)}, C{(service, group)}, C{(service, group, host)} and
    C{(service, ("route", route))}.
    """
    figures = {}
    for status in statuses:
        for sname, service in status.items():
            _add(figures, (sname,), service, SUMMED["service"])
            for gname, group in service.get("groups", {}).items():
                _add(figures, (sname, gname), group, SUMMED["group"])
                for hname, host in group.get("hosts", {}).items():
                    _add(figures, (sname, gname, hname), host, SUMMED["host"])
            for rname, route in service.get("routes", {}).items():
                _add(figures, (sname, ("route", rname)), route, SUMMED["route"])
    return figures


def _add(figures, key, values, names):
    into = figures.setdefault(key, {})
    for name in names:
        value = values.get(name)
        if value is not None:
            summed = addFigures(into.get(name), value)
            if summed is not None:
                into[name] = summed
