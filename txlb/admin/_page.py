"""
C{/}: the status page, rendered with C{twisted.web.template}, and its
stylesheet, served with cache headers.
"""

import time

from twisted.logger import Logger
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET
from twisted.web.template import Element, XMLString, flattenString, renderer, tags

from txlb.admin import _table, _view
from txlb.admin._sampler import samplerFor
from txlb.admin._tls import tlsParagraph

STYLE = b"""
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
header { display: flex; justify-content: space-between; align-items: baseline; }
h1 { font-size: 1.4em; margin: 0 0 .5em 0; }
h2 { font-size: 1.15em; margin: 1.4em 0 .3em 0; }
h3 { font-size: 1em; margin: 1em 0 .3em 0; color: #444; }
table { border-collapse: collapse; width: 100%; font-size: .9em; }
th, td { text-align: left; padding: .25em .6em; border-bottom: 1px solid #ddd; }
th { background: #f3f3f3; }
td { white-space: nowrap; }
td.history { white-space: normal; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.state { font-weight: bold; padding: .1em .5em; border-radius: .3em; color: white; }
.state-up { background: #2e8b3a; }
.state-down { background: #c0392b; }
.state-draining { background: #d68910; }
.state-maint { background: #5d6d7e; }
.state-failing { background: #b7950b; }
tr.failing td { background: #fdf2d0; }
tr.total td { font-weight: bold; border-top: 2px solid #bbb; }
.check-passing { color: #2e8b3a; }
.check-failing { color: #c0392b; font-weight: bold; }
.check-pending { color: #777; }
.enabled { color: #2e8b3a; font-weight: bold; }
.store-connected { color: #2e8b3a; }
.store-disconnected, .store-connecting { color: #c0392b; font-weight: bold; }
.history { color: #555; font-size: .85em; }
footer { margin-top: 2em; color: #777; font-size: .8em; }
"""

_TEMPLATE = XMLString(
    """<html xmlns:t="http://twistedmatrix.com/ns/twisted.web.template/0.1">
<head>
<meta charset="utf-8" />
<t:transparent t:render="refresh" />
<title>txlb status</title>
<link rel="stylesheet" href="style.css" />
</head>
<body>
<header><h1>txlb status</h1><t:transparent t:render="project" /></header>
<t:transparent t:render="store" />
<t:transparent t:render="services" />
<footer t:render="footer" />
</body>
</html>"""
)


def _resolved(host):
    # A host named by host name: the addresses its name resolves to now.
    addresses = getattr(host.connector, "addresses", ())
    return [tags.div(", ".join(addresses), class_="resolved")] if addresses else []


def _when(seconds):
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(seconds)) if seconds else ""


def _bytes(n):
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024


class StatusElement(Element):
    """
    Every service, group and host with its state and counters.
    """

    loader = _TEMPLATE

    def __init__(self, balancer, refreshSeconds, projectURL):
        Element.__init__(self)
        self.balancer = balancer
        self.refreshSeconds = refreshSeconds
        self.projectURL = projectURL

    @renderer
    def refresh(self, request, tag):
        if not self.refreshSeconds:
            return ""
        return tags.meta(**{"http-equiv": "refresh", "content": f"{self.refreshSeconds:g}"})

    @renderer
    def project(self, request, tag):
        if not self.projectURL:
            return ""
        return tags.a(self.projectURL, href=self.projectURL)

    @renderer
    def store(self, request, tag):
        store = getattr(self.balancer, "store", None)
        if store is None:
            return ""
        status = store.status()
        return tags.p("shared through etcd ", tags.code(status["prefix"]), ": ",
                      tags.span(status["text"], class_="store-" + status["state"]),
                      f" ({status['lastError']})" if status["lastError"] else "")

    @renderer
    def footer(self, request, tag):
        every = f"; refreshes every {self.refreshSeconds:g} s" if self.refreshSeconds else ""
        return tag(f"txlb, {_when(time.time())}", every)

    @renderer
    def services(self, request, tag):
        sampler = samplerFor(self.balancer)
        table = _table.rows(self.balancer, sampler)
        for name, proxy in self.balancer.proxies.items():
            service = [r for r in table if r["service"] == name]
            totals = service[-1]
            yield tags.h2(f"service {name}", tags.small(
                f"  listening on {totals['address'] or 'nothing'}; {totals['sessions']} sessions now "
                f"(peak {totals['peak_sessions']}), {totals['rate']:.1f}/s, {totals['total']} accepted, "
                f"{totals['refused']} refused{_refusedAtAccept(proxy)}"))
            yield tlsParagraph(proxy, time.time())
            for gname, pool in proxy.pools.items():
                enabled = tags.span(" (enabled)", class_="enabled") if gname == proxy.enabledGroup else ""
                rows = [r for r in service if r["group"] == gname]
                group = rows[-1]
                yield tags.h3(
                    f"group {gname}", enabled, f", scheduler {pool.schedulerSpec}; queue "
                    f"{group['queue']} waiting now, {group['queued']} queued and {group['refused']} refused ever",
                )
                yield self._hosts(pool, rows[:-1], group)
            routes = _view.routeStatus(proxy)
            if routes:
                yield tags.h3("routes")
                yield self._routes(routes)

    def _routes(self, routes):
        head = tags.tr(*[tags.th(h) for h in ("route", "matches", "group", "connections", "in", "out")])
        rows = [head]
        for name, route in routes.items():
            rows.append(tags.tr(
                tags.td(name),
                tags.td(route["match"]),
                tags.td(route["group"] or "(enabled group)"),
                tags.td(str(int(route["connections"])), class_="num"),
                tags.td(_bytes(route["bytesIn"]), class_="num"),
                tags.td(_bytes(route["bytesOut"]), class_="num"),
            ))
        return tags.table(*rows)

    def _hosts(self, pool, rows, group):
        head = tags.tr(*[tags.th(h) for h in (
            "host", "address", "state", "check", "weight", "sessions", "peak", "rate/s", "total",
            "failed", "in", "out", "last failure", "recent history")])
        body = [head]
        for row in rows:
            host = pool.hosts[row["host"]]
            history = [f"{_when(c.time)} {c.old}\u2192{c.new}: {c.reason}" for c in list(host.history)[-3:]]
            failure = row["last_failure"]
            body.append(tags.tr(
                tags.td(row["host"] + (" (backup)" if host.backup else "")),
                tags.td(row["address"], *_resolved(host)),
                tags.td(_state(row["state"])),
                tags.td(_check(row)),
                *self._figures(row),
                tags.td(f"{_when(failure['time'])} {failure['reason']}" if failure else ""),
                tags.td(*[tags.div(h) for h in history], class_="history"),
                class_="failing" if row["state"] == "up, failing" else "",
            ))
        body.append(tags.tr(
            tags.td("total", colspan="4"), *self._figures(group), tags.td(""), tags.td(""),
            class_="total",
        ))
        return tags.table(*body)

    def _figures(self, row):
        peak = row["peak_sessions"]
        return [
            tags.td(str(row["weight"]), class_="num"),
            tags.td(str(row["sessions"]), class_="num"),
            tags.td("" if peak is None else str(peak), class_="num"),
            tags.td(f"{row['rate']:.1f}", class_="num"),
            tags.td(str(row["total"]), class_="num"),
            tags.td(str(row["failed"]), class_="num"),
            tags.td(_bytes(row["bytes_in"]), class_="num"),
            tags.td(_bytes(row["bytes_out"]), class_="num"),
        ]


def _state(state):
    css = "failing" if state == "up, failing" else state
    return tags.span(state, class_=f"state state-{css}")


def _check(row):
    if not row["check"]:
        return "no checks"
    parts = [tags.span(row["check"], class_=f"check check-{row['check']}")]
    if row["check_result"] and row["check_result"] != "ok":
        parts.append(f" {row['check_result']}")
    if row["check_duration"] is not None:
        parts.append(f" ({row['check_duration'] * 1000:.1f} ms)")
    return parts


class StatusPage(Resource):
    """
    The page at C{/}.
    """

    isLeaf = True
    log = Logger()

    def __init__(self, balancer, refresh=10.0, projectURL=None):
        Resource.__init__(self)
        self.balancer = balancer
        self.refresh = refresh
        self.projectURL = projectURL
        # Sampling starts with the admin, so rates and peaks are ready at the first look.
        samplerFor(balancer)

    def render_GET(self, request):
        request.setHeader(b"Content-Type", b"text/html; charset=utf-8")
        request.setHeader(b"Cache-Control", b"no-store")
        element = StatusElement(self.balancer, self.refresh, self.projectURL)
        d = flattenString(request, element)

        def done(html):
            request.write(b"<!DOCTYPE html>\n" + html)
            request.finish()

        def failed(reason):
            self.log.failure("the status page could not be rendered", reason)
            request.setResponseCode(500)
            request.write(b"the status page could not be rendered; see txlb's log")
            request.finish()

        d.addCallbacks(done, failed)
        return NOT_DONE_YET


class Stylesheet(Resource):
    """
    The page's CSS, cached by browsers for an hour.
    """

    isLeaf = True

    def render_GET(self, request):
        request.setHeader(b"Content-Type", b"text/css; charset=utf-8")
        request.setHeader(b"Cache-Control", b"public, max-age=3600")
        return STYLE


def _refusedAtAccept(proxy):
    """
    The clients a service closed before any backend work (access control,
    per-client limits, PROXY headers), by reason, for the page's service
    line; "" when there were none.
    """
    refusals = _view.serviceRefusals(proxy)
    if not refusals:
        return ""
    reasons = ", ".join(f"{reason} {count}" for reason, count in sorted(refusals.items()))
    return f"; {sum(refusals.values())} closed at accept ({reasons})"
