"""
C{/}: the status page, rendered with C{twisted.web.template}, and its
stylesheet, served with cache headers.
"""

import time

from twisted.logger import Logger
from twisted.web.resource import Resource
from twisted.web.template import Element, XMLString, flattenString, renderer, tags

from txlb.admin import _view

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
.enabled { color: #2e8b3a; font-weight: bold; }
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
<t:transparent t:render="services" />
<footer t:render="footer" />
</body>
</html>"""
)


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
    def footer(self, request, tag):
        every = f"; refreshes every {self.refreshSeconds:g} s" if self.refreshSeconds else ""
        return tag(f"txlb, {_when(time.time())}", every)

    @renderer
    def services(self, request, tag):
        for name, proxy in self.balancer.proxies.items():
            listeners = ", ".join(l.address or l.description for l in proxy.listeners) or "nothing"
            accepted = _view.serviceCounts(proxy)["accepted"]
            refusals = _view.serviceRefusals(proxy)
            refused = ""
            if refusals:
                reasons = ", ".join(f"{reason} {count}" for reason, count in sorted(refusals.items()))
                refused = f"; {sum(refusals.values())} refused ({reasons})"
            yield tags.h2(
                f"service {name}", tags.small(f"  listening on {listeners}; {accepted} accepted{refused}")
            )
            for gname, pool in proxy.pools.items():
                enabled = tags.span(" (enabled)", class_="enabled") if gname == proxy.enabledGroup else ""
                yield tags.h3(f"group {gname}", enabled, f", scheduler {pool.schedulerSpec}")
                yield self._hosts(proxy, pool)

    def _hosts(self, proxy, pool):
        checker, _, _ = _view.healthOf(proxy, pool.name)
        head = tags.tr(*[tags.th(h) for h in (
            "host", "address", "state", "weight", "open", "total", "failed", "in", "out",
            "last failure", "recent history")])
        rows = [head]
        for name, host in pool.hosts.items():
            failure = host.lastFailure
            history = [f"{_when(c.time)} {c.old}\u2192{c.new}: {c.reason}" for c in list(host.history)[-3:]]
            check = checker.status(name) if checker is not None else None
            counts = _view.hostCounts(proxy, pool, host)
            if check is not None and check.lastResult not in (None, "ok"):
                history.append(f"last check: {check.lastResult}")
            rows.append(tags.tr(
                tags.td(name + (" (backup)" if host.backup else "")),
                tags.td(host.address),
                tags.td(tags.span(host.state, class_=f"state state-{host.state}")),
                tags.td(str(host.weight), class_="num"),
                tags.td(str(counts["open"]), class_="num"),
                tags.td(str(counts["total"]), class_="num"),
                tags.td(str(counts["failed"]), class_="num"),
                tags.td(_bytes(counts["bytesIn"]), class_="num"),
                tags.td(_bytes(counts["bytesOut"]), class_="num"),
                tags.td(f"{_when(failure.time)} {failure.reason}" if failure else ""),
                tags.td(*[tags.div(h) for h in history], class_="history"),
            ))
        return tags.table(*rows)


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
        from twisted.web.server import NOT_DONE_YET

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
