"""
What the admin shows: plain dicts, lists, strings and numbers (XML-RPC and
JSON safe) read live from the running tree.
"""

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


def hostStatus(host, checker=None, ejection=None):
    """
    One host's state and counters.
    """
    status = {
        "address": host.address,
        "weight": number(host.weight),
        "effectiveWeight": float(host.effectiveWeight),
        "backup": bool(host.backup),
        "maxconn": number(host.maxconn) if host.maxconn is not None else 0,
        "state": host.state,
        "open": number(host.open),
        "total": number(host.total),
        "failed": number(host.failed),
        "consecutiveFailures": number(host.consecutiveFailures),
        "bytesIn": float(host.bytesIn),
        "bytesOut": float(host.bytesOut),
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
    return {
        "scheduler": pool.schedulerSpec,
        "waiting": number(pool.waiting),
        "queued": number(pool.queued),
        "refused": number(pool.refused),
        "hosts": {
            name: hostStatus(host, checker, ejection) for name, host in pool.hosts.items()
        },
    }


def serviceStatus(proxy):
    return {
        "listeners": [l.address or l.description for l in proxy.listeners],
        "enabledGroup": proxy.enabledGroup or "",
        "accepted": number(proxy.accepted),
        "unreachable": number(proxy.unreachable),
        "groups": {name: groupStatus(proxy, pool) for name, pool in proxy.pools.items()},
    }


def status(balancer):
    """
    The whole balancer's live status, by service.
    """
    return {name: serviceStatus(proxy) for name, proxy in balancer.proxies.items()}


def config(balancer):
    """
    The balancer's configuration as it runs now, by service.
    """
    return {
        name: {
            "listen": [l.description for l in proxy.listeners],
            "enabledGroup": proxy.enabledGroup or "",
            "connectTimeout": proxy.connectTimeout,
            "idleTimeout": proxy.idleTimeout or 0.0,
            "groups": {
                gname: {
                    "scheduler": pool.schedulerSpec,
                    "hosts": {
                        hname: {
                            "address": h.address,
                            "weight": number(h.weight),
                            "backup": bool(h.backup),
                            "maxconn": number(h.maxconn) if h.maxconn is not None else 0,
                        }
                        for hname, h in pool.hosts.items()
                    },
                }
                for gname, pool in proxy.pools.items()
            },
        }
        for name, proxy in balancer.proxies.items()
    }
