"""
What an operator watches, against a real twistd: /metrics (health checks,
sessions, histograms, refusals, process_*, build info), the status page's
check column and totals, /status.csv and /status.json, a host failing its
connects, draining with txlbctl, and the table summed over --workers.
"""

import csv
import io
import json
import time

from prometheus_client.parser import text_string_to_metric_families
from twisted.trial.unittest import SynchronousTestCase

from tests.support import Process, deadAddress, name, request, startBackend, startTwistd
from tests.test_integration_admin import ADMIN, LISTEN, TXLBCTL, adminURL, fetch
from tests.test_integration_workers import serving
from txlb import __version__


def metrics(process):
    _, text = fetch(adminURL(process, "/metrics"))
    return {f.name: f for f in text_string_to_metric_families(text)}


def byHost(family, suffix=""):
    return {s.labels["host"]: s.value for s in family.samples if s.name == family.name + suffix}


def until(condition, timeout=10.0):
    """
    Poll C{condition} (a callable returning something true when met) until
    it holds; return what it returned.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result or time.monotonic() > deadline:
            assert result, "condition not met in time"
            return result
        time.sleep(0.05)


def table(process, kind="csv"):
    _, text = fetch(adminURL(process, f"/status.{kind}"))
    if kind == "json":
        return json.loads(text)["rows"]
    return list(csv.DictReader(io.StringIO(text)))


class CheckedTests(SynchronousTestCase):
    def setUp(self):
        self.a = startBackend(self, name, "A")
        self.dead = deadAddress()
        self.process, self.address = startTwistd(self, [
            "txlb", *LISTEN, *ADMIN, "--backend", f"app={self.a.address}", "--backend", f"gone={self.dead}",
            "--check", "tcp", "--check-interval", "0.2", "--fall", "1",
        ])
        self.process.waitFor(r"host gone \(\S+\) up -> down")
        self.process.waitFor(r"service admin listening")
        # The first checks are spread over one interval: wait for both results.
        until(lambda: len(byHost(metrics(self.process)["txlb_host_check_up"])) == 2)

    def test_metrics(self):
        """
        /metrics shows each host's last check (up and duration), sessions
        per service, the connect and session histograms, refusals by
        reason, process_* and txlb_build_info.
        """
        self.assertEqual(request(self.address), b"A\n")
        families = metrics(self.process)
        self.assertEqual(byHost(families["txlb_host_check_up"]), {"app": 1, "gone": 0})
        durations = byHost(families["txlb_host_check_duration_seconds"])
        self.assertEqual(set(durations), {"app", "gone"})
        self.assertTrue(all(0 <= d < 1 for d in durations.values()), durations)
        [sessions] = families["txlb_service_sessions"].samples
        self.assertEqual(sessions.labels, {"service": "default"})
        for family in ("txlb_connect_duration_seconds", "txlb_session_duration_seconds"):
            buckets = [s for s in families[family].samples if s.name == family + "_bucket"]
            self.assertEqual(buckets[-1].labels["le"], "+Inf")
        reasons = {s.labels["reason"] for s in families["txlb_refused"].samples}
        self.assertIn("no-host", reasons)
        [info] = families["txlb_build_info"].samples
        self.assertEqual(info.labels["version"], __version__)
        self.assertGreater(families["process_resident_memory_bytes"].samples[0].value, 0)

    def test_tableAndPage(self):
        """
        /status.csv and /status.json carry each host's state and check, and
        total rows; the page shows the check column and the totals.
        """
        for _ in range(3):
            self.assertEqual(request(self.address), b"A\n")
        rows = {(r["type"], r["host"]): r for r in table(self.process)}
        self.assertEqual((rows["host", "app"]["state"], rows["host", "app"]["check"]), ("up", "passing"))
        self.assertEqual((rows["host", "gone"]["state"], rows["host", "gone"]["check"]), ("down", "failing"))
        self.assertEqual(rows["host", "app"]["total"], "3")
        self.assertEqual(rows["group", ""]["total"], "3")
        self.assertEqual(rows["service", ""]["total"], "3")
        asJSON = {(r["type"], r["host"]): r for r in table(self.process, "json")}
        self.assertEqual(asJSON["host", "gone"]["check"], "failing")
        self.assertIsInstance(asJSON["host", "app"]["check_duration"], float)
        _, page = fetch(adminURL(self.process, "/"))
        for expected in ("passing", "failing", "sessions now", 'class="total"', "peak", "rate/s", "waiting now"):
            self.assertIn(expected, page)

    def test_drain(self):
        """
        txlbctl drain (with the URL as HOST:PORT) drains a host: the table
        says draining; txlbctl up brings it back.
        """
        host, port = self.process.address("admin")
        ctl = Process(TXLBCTL + ["--url", f"{host}:{port}", "drain", "default", "default", "app"])
        self.assertEqual(ctl.wait(), 0, ctl.output)
        rows = {r["host"]: r for r in table(self.process)}
        self.assertEqual(rows["app"]["state"], "draining")
        up = Process(TXLBCTL + ["--url", f"{host}:{port}", "up", "default", "default", "app"])
        self.assertEqual(up.wait(), 0, up.output)
        self.process.waitFor(r"host app \(\S+\) down -> up")


    def test_brokenPipe(self):
        """
        txlbctl --json status into a reader that has gone (txlbctl ... |
        head) exits quietly.
        """
        import os
        import subprocess

        from tests.support import environment

        readEnd, writeEnd = os.pipe()
        os.close(readEnd)
        try:
            result = subprocess.run(
                TXLBCTL + ["--url", adminURL(self.process), "--json", "status"],
                stdout=writeEnd, stderr=subprocess.PIPE, env=environment(), timeout=30,
            )
        finally:
            os.close(writeEnd)
        self.assertEqual((result.returncode, result.stderr), (0, b""))


class FailingTests(SynchronousTestCase):
    def test_failingHostIsMarked(self):
        """
        Without checks, a host whose connects fail but which is not ejected
        yet is shown as 'up, failing', not plain up.
        """
        a = startBackend(self, name, "A")
        process, address = startTwistd(self, [
            "txlb", *LISTEN, *ADMIN, "--backend", f"app={a.address}", "--backend", f"gone={deadAddress()}",
        ])
        for _ in range(2):
            self.assertEqual(request(address), b"A\n")
        rows = {r["host"]: r for r in table(process)}
        self.assertEqual(rows["gone"]["state"], "up, failing")
        self.assertEqual(rows["app"]["state"], "up")
        _, page = fetch(adminURL(process, "/"))
        self.assertIn("state-failing", page)


class WorkersTests(SynchronousTestCase):
    def test_summedOverWorkers(self):
        """
        With --workers 2 the table's totals count every worker's clients.
        """
        a = startBackend(self, name, "A")
        process, address = startTwistd(self, ["txlb", "--workers", "2", *LISTEN, *ADMIN, "--backend", f"app={a.address}"])
        serving(process)
        for _ in range(40):
            self.assertEqual(request(address), b"A\n")
        workers = {w["index"]: w["accepted"] for w in __import__("xmlrpc.client").client.ServerProxy(
            adminURL(process)).getWorkers()}
        rows = {(r["type"], r["host"]): r for r in table(process)}
        self.assertEqual(int(rows["service", ""]["total"]), 40)
        self.assertEqual(int(rows["host", "app"]["total"]), 40)
        self.assertEqual(sum(workers.values()), 40)
