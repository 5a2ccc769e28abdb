"""
What the admin shows: plain dicts, lists, strings and numbers (XML-RPC and
JSON safe) read live from the running tree.
"""

from txlb._sums import addFigures
from txlb.admin._tls import tlsStatus


#: XML-RPC integers are 32-bit; larger counters go out as doubles (exact up
#: to 2**53).
_INT_LIMIT = 2**31 - 1


def number(n):
    """
    C{n} as an XML-RPC-safe number.
    """
    return n if -_INT_LIMIT <= n <= _INT_LIMIT else float(n)


def healthOf(proxy, group):
    """
    The health services of C{group} in C{proxy}: C{(checker, ejection,
    heartbeat)}, each None when absent.
    """
    named = proxy.namedServices
    return (
        named.get(f"health:{group}"),
        named.get(f"ejection:{group}"),
        named.get(f"heartbeat:{group}"),
    )


def _others(proxy, *key):
    workers = getattr(proxy.parent, "workers", None)
    return workers.extra((proxy.name, *key)) if workers is not None else {}


def hostCounts(proxy, pool, host):
    """
    A host's counters (C{open}, C{total}, C{failed}, C{bytesIn},
    C{bytesOut}), summed over every worker with C{--workers}.
    """
    others = _others(proxy, pool.name, host.name)
    return {
        "open": host.open + others.get("open", 0),
        "total": host.total + others.get("total", 0),
        "failed": host.failed + others.get("failed", 0),
        "bytesIn": host.bytesIn + others.get("bytesIn", 0),
        "bytesOut": host.bytesOut + others.get("bytesOut", 0),
    }


def histogram(h):
    """
    A L{txlb.histogram.Histogram} as C{{"count", "sum", "buckets"}}, the
    buckets being the cumulative counts in the order of its bounds (the
    last, +Inf, equals the count).
    """
    return {"count": number(h.count), "sum": float(h.sum), "buckets": [number(n) for _, n in h.cumulative()]}


def groupCounts(proxy, pool):
    """
    A group's C{waiting}, C{queued}, C{refused}, C{refusals} (by reason)
    and its C{connectTimes} and C{sessionTimes} histograms (see
    L{histogram}), over every worker.
    """
    others = _others(proxy, pool.name)
    counts = {
        "waiting": pool.waiting + others.get("waiting", 0),
        "queued": pool.queued + others.get("queued", 0),
        "refused": pool.refused + others.get("refused", 0),
    }
    mine = {
        "refusals": {k: number(v) for k, v in pool.refusals.items()},
        "connectTimes": histogram(pool.connectTimes),
        "sessionTimes": histogram(pool.sessionTimes),
    }
    for name, value in mine.items():
        counts[name] = addFigures(value, others[name]) if name in others else value
    return counts


def serviceCounts(proxy):
    """
    A service's C{accepted}, C{unreachable}, C{spliced}, C{resets} and
    C{clients} (connected now), over every worker.
    """
    others = _others(proxy)
    return {
        "clients": len(proxy.clients) + others.get("clients", 0),
        "accepted": proxy.accepted + others.get("accepted", 0),
        "unreachable": proxy.unreachable + others.get("unreachable", 0),
        "spliced": proxy.spliced + others.get("spliced", 0),
        "resets": proxy.resets + others.get("resets", 0),
        "lean": proxy.leanCarried + others.get("lean", 0),
    }


def serviceRefusals(proxy):
    """
    A service's clients refused before any backend work, by reason (access
    control, per-client limits, PROXY headers), over every worker.
    """
    refusals = dict(proxy.refusals)
    for reason, count in _others(proxy).get("refusals", {}).items():
        refusals[reason] = refusals.get(reason, 0) + count
    return refusals


def routeCounts(proxy, label, count):
    """
    A route's C{connections}, C{bytesIn} and C{bytesOut}, over every
    worker.
    """
    others = _others(proxy, ("route", label))
    return {
        "connections": count.connections + others.get("connections", 0),
        "bytesIn": count.bytesIn + others.get("bytesIn", 0),
        "bytesOut": count.bytesOut + others.get("bytesOut", 0),
    }


def routes(proxy):
    """
    A service's routes in the order they are tried (the router first,
    C{default} last): C{route}, C{group} (empty for the enabled group) and
    C{match}, without counters; empty when the service does not route.
    """
    if proxy.routing is None:
        return []
    return proxy.routing.describe()


def routeStatus(proxy):
    """
    The counters of each route of a service, by route name: C{group},
    C{match}, C{connections}, C{bytesIn}, C{bytesOut}.
    """
    routing = proxy.routing
    if routing is None:
        return {}
    status = {}
    for row in routing.describe():
        label = row["route"]
        counts = routeCounts(proxy, label, routing.counts[label])
        status[label] = {
            "group": row["group"],
            "match": row["match"],
            "connections": number(counts["connections"]),
            "bytesIn": float(counts["bytesIn"]),
            "bytesOut": float(counts["bytesOut"]),
        }
    return status


def hostStatus(host, checker=None, ejection=None, counts=None):
    """
    One host's state and counters (C{counts}, from L{hostCounts}, when
    given; else the host's own).
    """
    if counts is None:
        counts = {k: getattr(host, k) for k in ("open", "total", "failed", "bytesIn", "bytesOut")}
    status = {
        "address": host.address,
        "resolved": list(getattr(host.connector, "addresses", ())),
        "weight": number(host.weight),
        "effectiveWeight": float(host.effectiveWeight),
        "backup": bool(host.backup),
        "maxconn": number(host.maxconn) if host.maxconn is not None else 0,
        "state": host.state,
        "open": number(counts["open"]),
        "total": number(counts["total"]),
        "failed": number(counts["failed"]),
        "consecutiveFailures": number(host.consecutiveFailures),
        "bytesIn": float(counts["bytesIn"]),
        "bytesOut": float(counts["bytesOut"]),
        "lastFailure": (
            {"time": host.lastFailure.time, "reason": host.lastFailure.reason}
            if host.lastFailure is not None
            else {}
        ),
        "history": [
            {"time": c.time, "from": c.old, "to": c.new, "reason": c.reason} for c in host.history
        ],
    }
    if checker is not None:
        check = checker.status(host.name)
        if check is not None:
            status["check"] = {
                "passes": number(check.passes),
                "failures": number(check.failures),
                "faults": number(check.faults),
                "lastCheck": check.lastCheck if check.lastCheck is not None else 0.0,
                "lastResult": check.lastResult or "",
                "nextCheck": check.nextCheck if check.nextCheck is not None else 0.0,
            }
            status["faults"] = number(check.faults)
    if ejection is not None:
        until = ejection.ejectedUntil(host.name)
        if until:
            status["ejectedUntil"] = until
    return status


def groupStatus(proxy, pool):
    checker, ejection, _ = healthOf(proxy, pool.name)
    counts = groupCounts(proxy, pool)
    return {
        "scheduler": pool.schedulerSpec,
        "waiting": number(counts["waiting"]),
        "queued": number(counts["queued"]),
        "refused": number(counts["refused"]),
        "refusals": counts["refusals"],
        "connectTimes": counts["connectTimes"],
        "sessionTimes": counts["sessionTimes"],
        "hosts": {
            name: hostStatus(host, checker, ejection, hostCounts(proxy, pool, host))
            for name, host in pool.hosts.items()
        },
    }


def serviceStatus(proxy):
    counts = serviceCounts(proxy)
    return {
        "listeners": [l.address or l.description for l in proxy.listeners],
        "enabledGroup": proxy.enabledGroup or "",
        "accepted": number(counts["accepted"]),
        "unreachable": number(counts["unreachable"]),
        "spliced": number(counts["spliced"]),
        "resets": number(counts["resets"]),
        "lean": number(counts["lean"]),
        "clients": number(counts["clients"]),
        "refusals": {reason: number(n) for reason, n in serviceRefusals(proxy).items()},
        "groups": {name: groupStatus(proxy, pool) for name, pool in proxy.pools.items()},
        "routes": routeStatus(proxy),
        "tls": tlsStatus(proxy),
    }


def status(balancer):
    """
    The whole balancer's live status, by service.
    """
    return {name: serviceStatus(proxy) for name, proxy in balancer.proxies.items()}
