"""
TLS in the admin: each service's certificates (expiry, last reload
problem) and failed client handshakes, for the status data, C{/metrics}
and the C{reloadCertificates} call.
"""

import time

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from twisted.web.template import tags


def tlsStatus(proxy):
    """
    A service's TLS status: C{certificates} (name to expiry, seconds since
    the epoch), C{reloadProblem} (why the last reload kept the old ones, or
    empty) and C{handshakeFailures}; an empty dict without TLS.
    """
    tls = getattr(proxy, "tls", None)
    if tls is None:
        return {}
    return {
        "certificates": {name: float(when) for name, when in sorted(tls.expiries.items())},
        "reloadProblem": tls.problem or "",
        "handshakeFailures": proxy.tlsFailed,
    }


def reloadCertificates(balancer):
    """
    Re-read every service's certificates; return the sentences of the
    services that kept their old ones (empty when all were reloaded).
    """
    problems = []
    for proxy in balancer.proxies.values():
        reload = getattr(proxy, "reloadCertificates", None)
        problem = reload() if reload is not None else None
        if problem:
            problems.append(problem)
    return problems


class TLSCollector:
    """
    C{txlb_tls_certificate_expiry_timestamp_seconds{service,name}} and
    C{txlb_tls_handshake_failures{service}}.
    """

    def __init__(self, balancer):
        self.balancer = balancer

    def collect(self):
        """
        The figures, read now.
        """
        expiry = GaugeMetricFamily(
            "txlb_tls_certificate_expiry_timestamp_seconds",
            "When a certificate a service serves expires (seconds since the epoch).",
            labels=["service", "name"],
        )
        failures = CounterMetricFamily(
            "txlb_tls_handshake_failures", "Client TLS handshakes that failed.", labels=["service"]
        )
        for sname, proxy in self.balancer.proxies.items():
            tls = getattr(proxy, "tls", None)
            if tls is None:
                continue
            for name, when in sorted(tls.expiries.items()):
                expiry.add_metric([sname, name], when)
            failures.add_metric([sname], proxy.tlsFailed)
        return [expiry, failures]


def tlsParagraph(proxy, now):
    """
    The status page's line on a service's TLS (C{twisted.web.template}
    tags), or an empty string without TLS: each certificate's expiry and
    days left, failed client handshakes, and the last reload problem.
    """
    status = tlsStatus(proxy)
    if not status:
        return ""
    parts = []
    for name, when in status["certificates"].items():
        day = time.strftime("%Y-%m-%d %H:%M", time.localtime(when))
        parts.append(f"certificate {name} expires {day} (in {(when - now) / 86400:.0f} days)")
    parts.append(f"{status['handshakeFailures']} failed client handshakes")
    problem = status["reloadProblem"]
    return tags.p(
        "TLS: " + "; ".join(parts),
        tags.span(f"; {problem}", class_="check-failing") if problem else "",
        class_="tls",
    )
