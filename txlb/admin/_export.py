"""
C{/status.csv} and C{/status.json}: the status page's table for scripts,
one row per host and a total row per group and per service (the C{type}
column says which); see doc/admin.rst for the columns.
"""

import csv
import io
import json

from twisted.web.resource import Resource

from txlb.admin import _table
from txlb.admin._sampler import samplerFor


def _flat(value):
    if value is None:
        return ""
    if isinstance(value, dict):
        return f"{value['time']:.3f} {value['reason']}"
    return value


class _Export(Resource):
    isLeaf = True

    def __init__(self, balancer):
        Resource.__init__(self)
        self.balancer = balancer
        samplerFor(balancer)

    def render_GET(self, request):
        request.setHeader(b"Content-Type", self.contentType)
        request.setHeader(b"Cache-Control", b"no-store")
        return self.render_rows(_table.rows(self.balancer, samplerFor(self.balancer)))


class StatusCSV(_Export):
    """
    The table as CSV with a header row (the column names).
    """

    contentType = b"text/csv; charset=utf-8"

    def render_rows(self, rows):
        """
        C{rows} as CSV bytes.
        """
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(_table.COLUMNS)
        for row in rows:
            writer.writerow([_flat(row[c]) for c in _table.COLUMNS])
        return out.getvalue().encode("utf-8")


class StatusJSON(_Export):
    """
    The table as JSON: C{{"columns": [...], "rows": [{column: value}, ...]}}.
    """

    contentType = b"application/json"

    def render_rows(self, rows):
        """
        C{rows} as JSON bytes.
        """
        return json.dumps({"columns": list(_table.COLUMNS), "rows": rows}, indent=1).encode("utf-8")
