"""
The status table: one row per host, then a total row per group and per
service, as plain dicts. The status page shows it, C{/status.csv} and
C{/status.json} export it (columns in L{COLUMNS}).
"""

from txlb.admin import _view

#: The columns of every row, in order.
COLUMNS = (
    "service", "group", "host", "type", "address", "state", "check", "check_result",
    "check_duration", "weight", "sessions", "peak_sessions", "rate", "total", "failed",
    "bytes_in", "bytes_out", "queue", "queued", "refused", "last_failure",
)


def hostState(host):
    """
    The state shown for C{host}: its pool state, with C{up, failing} for a
    host that is up but whose last connects failed (passive ejection may
    not have taken it out yet).
    """
    if host.state == "up" and host.consecutiveFailures:
        return "up, failing"
    return host.state


def checkColumns(check):
    """
    C{(check, check_result, check_duration)} for a L{CheckStatus} or None:
    C{passing}/C{failing}/C{pending}, the last result, seconds or None.
    """
    if check is None:
        return "", "", None
    if check.lastResult is None:
        return "pending", "", None
    state = "passing" if check.lastResult == "ok" else "failing"
    return state, check.lastResult, check.lastDuration


def rows(balancer, sampler):
    """
    Every row of the table for C{balancer}, rates and peaks from
    C{sampler} (a L{txlb.admin._sampler.Sampler}).
    """
    table = []
    for sname, proxy in balancer.proxies.items():
        served = _view.serviceCounts(proxy)
        serviceTotals = _blank(sname, "", "", "service")
        for gname, pool in proxy.pools.items():
            checker, _, _ = _view.healthOf(proxy, gname)
            groupTotals = _blank(sname, gname, "", "group")
            counts = _view.groupCounts(proxy, pool)
            groupTotals.update(
                state="enabled" if gname == proxy.enabledGroup else "",
                queue=counts["waiting"], queued=counts["queued"], refused=counts["refused"],
            )
            for hname, host in pool.hosts.items():
                hostCounts = _view.hostCounts(proxy, pool, host)
                check, result, duration = checkColumns(
                    checker.status(hname) if checker is not None else None
                )
                key = (sname, gname, hname)
                failure = host.lastFailure
                row = _blank(sname, gname, hname, "host")
                row.update(
                    address=host.address, state=hostState(host), check=check, check_result=result,
                    check_duration=duration, weight=host.weight, sessions=hostCounts["open"],
                    peak_sessions=sampler.peak(key, hostCounts["open"]),
                    rate=round(sampler.rate(key), 3),
                    total=hostCounts["total"], failed=hostCounts["failed"],
                    bytes_in=hostCounts["bytesIn"], bytes_out=hostCounts["bytesOut"],
                    last_failure=(
                        {"time": failure.time, "reason": failure.reason} if failure else None
                    ),
                )
                table.append(row)
                for name in ("sessions", "total", "failed", "bytes_in", "bytes_out", "rate", "weight"):
                    groupTotals[name] += row[name]
            groupTotals["rate"] = round(groupTotals["rate"], 3)
            table.append(groupTotals)
            for name in ("queue", "queued", "failed", "bytes_in", "bytes_out"):
                serviceTotals[name] += groupTotals[name]
        serviceTotals.update(
            address=", ".join(l.address or l.description for l in proxy.listeners),
            sessions=served["clients"],
            peak_sessions=sampler.peak((sname,), served["clients"]),
            rate=round(sampler.rate((sname,)), 3),
            total=served["accepted"],
            refused=served["unreachable"],
        )
        table.append(serviceTotals)
    return table


def _blank(service, group, host, kind):
    row = dict.fromkeys(COLUMNS, 0)
    row.update(
        service=service, group=group, host=host, type=kind, address="", state="", check="",
        check_result="", check_duration=None, peak_sessions=None, rate=0.0, last_failure=None,
    )
    return row
