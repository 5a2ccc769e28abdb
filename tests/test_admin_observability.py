"""
Unit tests for what the admin shows beyond getStatus (memory reactor):
the /metrics additions, the status table behind the page and its CSV and
JSON exports, rates and peaks, and the hostDrain call.
"""

import csv
import io
import json

from prometheus_client.parser import text_string_to_metric_families
from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import SynchronousTestCase
from twisted.web.test.requesthelper import DummyRequest

from txlb import __version__
from txlb.admin import AdminAPI, AdminRPC, _view
from txlb.admin._export import StatusCSV, StatusJSON
from txlb.admin._metrics import MetricsResource
from txlb.admin._page import StatusElement
from txlb.admin._sampler import Sampler
from txlb.admin._table import COLUMNS, rows
from txlb.builder import Builder, build
from txlb.config import Balancer, Group, Host, Service


def render(resource):
    request = DummyRequest([b""])
    body = resource.render_GET(request)
    return request, body.decode("utf-8")


class ObservabilityCase(SynchronousTestCase):
    def setUp(self):
        self.reactor = MemoryReactorClock()
        spec = Balancer(services=[Service("web", groups=[
            Group("blue", hosts=[Host("a", "127.0.0.1:8081"), Host("b", "127.0.0.1:8082", weight=2)]),
            Group("green"),
        ])])
        self.balancer = build(spec, reactor=self.reactor)
        self.proxy = self.balancer.proxies["web"]
        self.pool = self.proxy.pools["blue"]

    def families(self):
        _, text = render(MetricsResource(self.balancer))
        return {f.name: f for f in text_string_to_metric_families(text)}


class MetricsTests(ObservabilityCase):
    def test_histograms(self):
        """
        The pool's connect and session histograms are exported per service
        and group with cumulative buckets, sum and count.
        """
        self.pool.connectTimes.observe(0.002)
        self.pool.connectTimes.observe(0.3)
        self.pool.sessionTimes.observe(42.0)
        families = self.families()
        connect = {
            (s.name, s.labels.get("le")): s.value
            for s in families["txlb_connect_duration_seconds"].samples if s.labels["group"] == "blue"
        }
        self.assertEqual(connect[("txlb_connect_duration_seconds_count", None)], 2)
        self.assertAlmostEqual(connect[("txlb_connect_duration_seconds_sum", None)], 0.302)
        self.assertEqual(connect[("txlb_connect_duration_seconds_bucket", "0.0025")], 1)
        self.assertEqual(connect[("txlb_connect_duration_seconds_bucket", "+Inf")], 2)
        session = [s for s in families["txlb_session_duration_seconds"].samples
                   if s.labels["group"] == "blue" and s.name.endswith("_count")]
        self.assertEqual(session[0].value, 1)

    def test_refusals(self):
        """
        Refusals are exported by service, group and reason as
        txlb_refused_total.
        """
        self.pool.refusals.update({"no-host": 3, "queue-full": 1})
        samples = self.families()["txlb_refused"].samples
        got = {(s.labels["group"], s.labels["reason"]): s.value for s in samples}
        self.assertEqual(got[("blue", "no-host")], 3)
        self.assertEqual(got[("blue", "queue-full")], 1)
        self.assertEqual(got[("green", "queue-timeout")], 0)
        self.assertEqual({s.name for s in samples}, {"txlb_refused_total"})

    def test_buildInfoAndProcess(self):
        """
        txlb_build_info carries the version; prometheus-client's process
        collector adds the standard process_* figures.
        """
        families = self.families()
        [info] = families["txlb_build_info"].samples
        self.assertEqual((info.labels["version"], info.value), (__version__, 1))
        self.assertIn("process_resident_memory_bytes", families)
        self.assertIn("process_open_fds", families)

    def test_sessions(self):
        """
        txlb_service_sessions is the number of clients connected now.
        """
        [sample] = self.families()["txlb_service_sessions"].samples
        self.assertEqual((sample.labels["service"], sample.value), ("web", 0))


class TableTests(ObservabilityCase):
    def test_rowsAndTotals(self):
        """
        One row per host, then a group total, then a service total; group
        totals sum their hosts.
        """
        a, b = self.pool.hosts["a"], self.pool.hosts["b"]
        a.total, b.total, a.open, b.failed = 5, 7, 2, 1
        sampler = Sampler(self.balancer, self.reactor)
        table = rows(self.balancer, sampler)
        self.assertEqual([(r["group"], r["host"], r["type"]) for r in table], [
            ("blue", "a", "host"), ("blue", "b", "host"), ("blue", "", "group"),
            ("green", "", "group"), ("", "", "service"),
        ])
        blue = table[2]
        self.assertEqual((blue["total"], blue["sessions"], blue["failed"], blue["state"]), (12, 2, 1, "enabled"))
        self.assertEqual(set(table[0]), set(COLUMNS))

    def test_failingHostIsNotPlainUp(self):
        """
        A host that is up but whose last connects failed shows as
        'up, failing', and the page marks it.
        """
        host = self.pool.hosts["a"]
        host.consecutiveFailures = 2
        table = rows(self.balancer, Sampler(self.balancer, self.reactor))
        self.assertEqual(table[0]["state"], "up, failing")
        self.assertEqual(table[1]["state"], "up")
        html = self.successResultOf(_flatten(StatusElement(self.balancer, 0, None)))
        self.assertIn("state-failing", html)

    def test_ratesAndPeaks(self):
        """
        The sampler turns totals into connections per second over its
        window, and remembers the most sessions open at once.
        """
        sampler = Sampler(self.balancer, self.reactor)
        sampler.start()
        self.addCleanup(sampler.stop)
        host = self.pool.hosts["a"]
        host.open = 4
        for _ in range(5):
            host.total += 10
            self.reactor.advance(1.0)
        host.open = 1
        self.reactor.advance(1.0)
        self.assertAlmostEqual(sampler.rate(("web", "blue", "a")), 50 / 6)
        self.assertEqual(sampler.peak(("web", "blue", "a"), host.open), 4)


class ExportTests(ObservabilityCase):
    def test_csv(self):
        """
        /status.csv has a header of the column names and a row per host,
        group and service.
        """
        request, body = render(StatusCSV(self.balancer))
        self.assertEqual(request.responseHeaders.getRawHeaders(b"content-type"), [b"text/csv; charset=utf-8"])
        table = list(csv.reader(io.StringIO(body)))
        self.assertEqual(tuple(table[0]), COLUMNS)
        self.assertEqual([r[2] for r in table[1:3]], ["a", "b"])
        self.assertEqual(len(table), 6)

    def test_json(self):
        """
        /status.json has the columns and the same rows as dicts.
        """
        _, body = render(StatusJSON(self.balancer))
        data = json.loads(body)
        self.assertEqual(tuple(data["columns"]), COLUMNS)
        self.assertEqual(data["rows"][1]["address"], "127.0.0.1:8082")
        self.assertEqual(data["rows"][1]["weight"], 2)


class DrainTests(ObservabilityCase):
    def test_drain(self):
        """
        hostDrain puts a host in state draining (no new clients) and
        hostAdminUp brings it back.
        """
        api = AdminAPI(self.balancer, Builder(self.reactor))
        call = lambda name, *args: AdminRPC(api, "tester").lookupProcedure(name)(*args)
        self.assertIs(call("hostDrain", "web", "blue", "a"), True)
        self.assertEqual(self.pool.hosts["a"].state, "draining")
        self.assertEqual(self.pool.pick(None).name, "b")
        self.assertIs(call("hostAdminUp", "web", "blue", "a"), True)
        self.assertEqual(self.pool.hosts["a"].state, "up")


def _flatten(element):
    from twisted.web.template import flattenString

    return flattenString(None, element).addCallback(lambda b: b.decode("utf-8"))


class WorkerSumTests(SynchronousTestCase):
    def test_addFigures(self):
        """
        Worker figures add up: numbers, dicts key by key (refusals),
        lists item by item (histogram buckets).
        """
        from txlb._sums import addFigures

        self.assertEqual(addFigures(None, 2), 2)
        self.assertEqual(addFigures({"no-host": 1}, {"no-host": 2, "queue-full": 1}),
                         {"no-host": 3, "queue-full": 1})
        self.assertEqual(addFigures({"count": 1, "sum": 0.5, "buckets": [0, 1]},
                                    {"count": 2, "sum": 1.0, "buckets": [1, 2]}),
                         {"count": 3, "sum": 1.5, "buckets": [1, 3]})

    def test_histogramsSummedOverWorkers(self):
        """
        With other workers' figures, /metrics and getStatus show the sum of
        every worker's histograms and refusals.
        """
        from txlb.workers._figures import sumStatuses

        case = ObservabilityCase("setUp")
        case.setUp()
        pool = case.pool
        pool.connectTimes.observe(0.002)
        pool.refusals["no-host"] = 1
        other = _view.status(case.balancer)

        class Workers:
            figures = sumStatuses([other])

            def extra(self, key):
                return self.figures.get(key, {})

        case.balancer.workers = Workers()
        status = _view.status(case.balancer)["web"]["groups"]["blue"]
        self.assertEqual(status["connectTimes"]["count"], 2)
        self.assertEqual(status["refusals"]["no-host"], 2)
        families = case.families()
        [count] = [s for s in families["txlb_connect_duration_seconds"].samples
                   if s.name.endswith("_count") and s.labels["group"] == "blue"]
        self.assertEqual(count.value, 2)
