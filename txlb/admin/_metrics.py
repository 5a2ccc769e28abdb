"""
C{/metrics}: Prometheus text, read live from the balancer's own counters
(a custom collector: no counter is kept twice).
"""

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import CollectorRegistry
from twisted.web.resource import Resource

from txlb.admin import _view
from txlb.backend import STATES

_HOST = ["service", "group", "host"]


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
        for sname, proxy in self.balancer.proxies.items():
            served = _view.serviceCounts(proxy)
            accepted.add_metric([sname], served["accepted"])
            refused.add_metric([sname], served["unreachable"])
            spliced.add_metric([sname], served["spliced"])
            resets.add_metric([sname], served["resets"])
            for reason, count in sorted(_view.serviceRefusals(proxy).items()):
                refusals.add_metric([sname, reason], count)
            groups = {gname: _view.groupCounts(proxy, pool) for gname, pool in proxy.pools.items()}
            queued.add_metric([sname], sum(g["queued"] for g in groups.values()))
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
            accepted, refused, spliced, resets, refusals, queued, waiting,
        ]


class MetricsResource(Resource):
    """
    Serves the collector's figures as Prometheus text.
    """

    isLeaf = True

    def __init__(self, balancer):
        Resource.__init__(self)
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(BalancerCollector(balancer))

    def render_GET(self, request):
        request.setHeader(b"Content-Type", CONTENT_TYPE_LATEST.encode())
        request.setHeader(b"Cache-Control", b"no-store")
        return generate_latest(self.registry)
