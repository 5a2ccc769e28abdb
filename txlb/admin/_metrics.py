"""
C{/metrics}: Prometheus text, read live from the balancer's own counters
(a custom collector: no counter is kept twice), with prometheus-client's
standard C{process_*} figures and C{txlb_build_info}. doc/admin.rst lists
every metric.
"""

import platform

import twisted
from prometheus_client import ProcessCollector
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import CollectorRegistry
from twisted.web.resource import Resource

from txlb import __version__
from txlb.admin import _view
from txlb.admin._tls import TLSCollector
from txlb.backend import STATES

_HOST = ["service", "group", "host"]
_GROUP = ["service", "group"]


def _buckets(bounds, summed):
    return [(_bound(b), n) for b, n in zip(tuple(bounds) + (float("inf"),), summed["buckets"])]


def _bound(bound):
    return "+Inf" if bound == float("inf") else repr(float(bound))


class BuildCollector:
    """
    C{txlb_build_info}: always 1, with txlb's, Python's and Twisted's
    versions as labels.
    """

    def collect(self):
        """
        The one C{txlb_build_info} sample.
        """
        info = GaugeMetricFamily(
            "txlb_build_info", "txlb's version and what it runs on (always 1).",
            labels=["version", "python", "twisted"],
        )
        info.add_metric([__version__, platform.python_version(), twisted.__version__], 1)
        return [info]


class AdminCollector:
    """
    C{txlb_admin_refused_total{reason}}: connections and requests the
    admin refused to protect the relay (see L{txlb.admin._limits}).
    """

    def __init__(self, admin):
        self.admin = admin

    def collect(self):
        """
        One sample per reason the admin refused something for.
        """
        refused = CounterMetricFamily(
            "txlb_admin_refused", "Admin connections and requests refused, by reason.",
            labels=["reason"],
        )
        for reason, count in sorted(self.admin.refused().items()):
            refused.add_metric([reason], count)
        return [refused]


class HealthCollector:
    """
    Per-host health-check figures, session counts per service, the
    connect and session duration histograms and refusals by reason.
    """

    def __init__(self, balancer):
        self.balancer = balancer

    def collect(self):
        """
        The figures, read now.
        """
        checkUp = GaugeMetricFamily(
            "txlb_host_check_up", "1 when the host's last health check passed, 0 when it failed.",
            labels=_HOST,
        )
        checkDuration = GaugeMetricFamily(
            "txlb_host_check_duration_seconds", "How long the host's last health check took.",
            labels=_HOST,
        )
        sessions = GaugeMetricFamily(
            "txlb_service_sessions", "Client sessions open now.", labels=["service"]
        )
        connect = HistogramMetricFamily(
            "txlb_connect_duration_seconds", "Time to connect to a host.", labels=_GROUP
        )
        session = HistogramMetricFamily(
            "txlb_session_duration_seconds", "Length of relayed sessions.", labels=_GROUP
        )
        refused = CounterMetricFamily(
            "txlb_refused", "Clients refused, by reason (no-host, queue-full, queue-timeout, ...).",
            labels=_GROUP + ["reason"],
        )
        for sname, proxy in self.balancer.proxies.items():
            sessions.add_metric([sname], _view.serviceCounts(proxy)["clients"])
            for gname, pool in proxy.pools.items():
                labels = [sname, gname]
                counts = _view.groupCounts(proxy, pool)
                for target, name, bounds in ((connect, "connectTimes", pool.connectTimes.bounds),
                                             (session, "sessionTimes", pool.sessionTimes.bounds)):
                    target.add_metric(labels, _buckets(bounds, counts[name]), counts[name]["sum"])
                for reason, count in sorted(counts["refusals"].items()):
                    refused.add_metric(labels + [reason], count)
                checker, _, _ = _view.healthOf(proxy, gname)
                if checker is None:
                    continue
                for hname in pool.hosts:
                    check = checker.status(hname)
                    if check is None or check.lastResult is None:
                        continue
                    checkUp.add_metric(labels + [hname], 1 if check.lastResult == "ok" else 0)
                    if check.lastDuration is not None:
                        checkDuration.add_metric(labels + [hname], check.lastDuration)
        return [checkUp, checkDuration, sessions, connect, session, refused]


class StoreCollector:
    """
    C{txlb_etcd_*}: whether this node reaches etcd, since when it does
    not, the revision it runs, and its admin changes and conflicts.
    Nothing when the balancer shares nothing.
    """

    def __init__(self, balancer):
        self.balancer = balancer

    def collect(self):
        """
        The figures, read now.
        """
        store = getattr(self.balancer, "store", None)
        if store is None:
            return []
        connected = GaugeMetricFamily(
            "txlb_etcd_connected", "1 while this node reaches etcd and watches its prefix, else 0.")
        connected.add_metric([], 1 if store.state == "connected" else 0)
        since = GaugeMetricFamily(
            "txlb_etcd_disconnected_since_seconds",
            "When this node lost etcd (seconds since the epoch); 0 while connected.")
        since.add_metric([], store.since if store.state != "connected" else 0)
        revision = GaugeMetricFamily("txlb_etcd_revision", "The etcd revision this node's pools follow.")
        revision.add_metric([], store.applied)
        changes = CounterMetricFamily("txlb_etcd_changes", "Admin changes this node wrote to etcd.")
        changes.add_metric([], store.changes)
        conflicts = CounterMetricFamily(
            "txlb_etcd_conflicts", "Admin writes retried because another node wrote first.")
        conflicts.add_metric([], store.conflicts)
        return [connected, since, revision, changes, conflicts]


class BalancerCollector:
    """
    Collects per-host and per-service figures from a L{LoadBalancer}.
    """

    def __init__(self, balancer):
        self.balancer = balancer

    def collect(self):
        state = GaugeMetricFamily("txlb_host_state", "1 for the host's current state.", labels=_HOST + ["state"])
        up = GaugeMetricFamily("txlb_host_up", "1 when the host takes new connections.", labels=_HOST)
        weight = GaugeMetricFamily("txlb_host_weight", "The host's configured weight.", labels=_HOST)
        opened = GaugeMetricFamily("txlb_host_open_connections", "Connections open now.", labels=_HOST)
        total = CounterMetricFamily("txlb_host_connections", "Connections handed to the host.", labels=_HOST)
        failed = CounterMetricFamily("txlb_host_failed_connects", "Connection attempts that failed.", labels=_HOST)
        bytesIn = CounterMetricFamily("txlb_host_bytes_in", "Bytes relayed from clients to the host.", labels=_HOST)
        bytesOut = CounterMetricFamily("txlb_host_bytes_out", "Bytes relayed from the host to clients.", labels=_HOST)
        accepted = CounterMetricFamily("txlb_service_accepted_connections", "Clients accepted.", labels=["service"])
        refused = CounterMetricFamily(
            "txlb_service_refused_connections", "Clients closed because no host could take them.", labels=["service"]
        )
        spliced = CounterMetricFamily(
            "txlb_service_spliced_connections", "Connections moved to the zero-copy (splice) path.", labels=["service"]
        )
        lean = CounterMetricFamily(
            "txlb_service_lean_connections", "Connections the lean path carried.", labels=["service"]
        )
        resets = CounterMetricFamily(
            "txlb_service_resets", "Connections one side reset, relayed as a reset to the other.", labels=["service"]
        )
        queued = CounterMetricFamily("txlb_service_queued_connections", "Clients that waited in a queue.", labels=["service"])
        refusals = CounterMetricFamily(
            "txlb_service_refusals",
            "Clients closed before any backend work (access control, per-client limits, PROXY header).",
            labels=["service", "reason"],
        )
        waiting = GaugeMetricFamily("txlb_group_waiting_clients", "Clients waiting in the queue now.", labels=["service", "group"])
        _ROUTE = ["service", "route", "group"]
        routed = CounterMetricFamily("txlb_route_connections", "Connections the route chose the group of.", labels=_ROUTE)
        routeIn = CounterMetricFamily("txlb_route_bytes_in", "Bytes relayed from the route's clients.", labels=_ROUTE)
        routeOut = CounterMetricFamily("txlb_route_bytes_out", "Bytes relayed to the route's clients.", labels=_ROUTE)
        for sname, proxy in self.balancer.proxies.items():
            served = _view.serviceCounts(proxy)
            accepted.add_metric([sname], served["accepted"])
            refused.add_metric([sname], served["unreachable"])
            spliced.add_metric([sname], served["spliced"])
            resets.add_metric([sname], served["resets"])
            lean.add_metric([sname], served["lean"])
            for reason, count in sorted(_view.serviceRefusals(proxy).items()):
                refusals.add_metric([sname, reason], count)
            groups = {gname: _view.groupCounts(proxy, pool) for gname, pool in proxy.pools.items()}
            queued.add_metric([sname], sum(g["queued"] for g in groups.values()))
            for rname, route in _view.routeStatus(proxy).items():
                labels = [sname, rname, route["group"]]
                routed.add_metric(labels, route["connections"])
                routeIn.add_metric(labels, route["bytesIn"])
                routeOut.add_metric(labels, route["bytesOut"])
            for gname, pool in proxy.pools.items():
                waiting.add_metric([sname, gname], groups[gname]["waiting"])
                for hname, host in pool.hosts.items():
                    counts = _view.hostCounts(proxy, pool, host)
                    labels = [sname, gname, hname]
                    for s in STATES:
                        state.add_metric(labels + [s], 1 if host.state == s else 0)
                    up.add_metric(labels, 1 if host.state == "up" else 0)
                    weight.add_metric(labels, host.weight)
                    opened.add_metric(labels, counts["open"])
                    total.add_metric(labels, counts["total"])
                    failed.add_metric(labels, counts["failed"])
                    bytesIn.add_metric(labels, counts["bytesIn"])
                    bytesOut.add_metric(labels, counts["bytesOut"])
        return [
            state, up, weight, opened, total, failed, bytesIn, bytesOut,
            accepted, refused, spliced, resets, lean, refusals, queued, waiting, routed, routeIn, routeOut,
        ]


class MetricsResource(Resource):
    """
    Serves the collector's figures as Prometheus text.
    """

    isLeaf = True

    def __init__(self, balancer, admin=None):
        """
        @param admin: the L{txlb.admin.AdminService} serving this, whose
            refusals are exported too; None to leave them out.
        """
        Resource.__init__(self)
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(BalancerCollector(balancer))
        if admin is not None:
            self.registry.register(AdminCollector(admin))
        self.registry.register(HealthCollector(balancer))
        self.registry.register(StoreCollector(balancer))
        self.registry.register(TLSCollector(balancer))
        self.registry.register(BuildCollector())
        ProcessCollector(registry=self.registry)

    def render_GET(self, request):
        request.setHeader(b"Content-Type", CONTENT_TYPE_LATEST.encode())
        request.setHeader(b"Cache-Control", b"no-store")
        return generate_latest(self.registry)
