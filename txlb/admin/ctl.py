"""
C{txlbctl}: drive a running txlb through its XML-RPC admin.

    txlbctl [--url URL] [--user U] [--password-file F] [--json] COMMAND ARGS...

Each command takes the XML-RPC method's arguments in the same order; the
URL defaults to C{$TXLB_URL}, else C{http://127.0.0.1:8081/RPC2}.
"""

import argparse
import json
import os
import socket
import sys
import time
import xmlrpc.client
from urllib.parse import quote, urlsplit, urlunsplit

DEFAULT_URL = "http://127.0.0.1:8081/RPC2"

#: command: (XML-RPC method, argument names, converters by name)
COMMANDS = {
    "status": ("getStatus", [], {}),
    "config": ("getConfig", [], {}),
    "services": ("listServices", [], {}),
    "workers": ("getWorkers", [], {}),
    "routes": ("getRoutes", ["service"], {}),
    "add-host": ("addHost", ["service", "group", "name", "address", "[weight]"], {"weight": int}),
    "del-host": ("delHost", ["service", "group", "name"], {}),
    "del-all-hosts": ("delAllHosts", ["service", "group"], {}),
    "weight": ("setWeight", ["service", "group", "name", "weight"], {"weight": int}),
    "down": ("hostAdminDown", ["service", "group", "name"], {}),
    "up": ("hostAdminUp", ["service", "group", "name"], {}),
    "retry": ("retryHost", ["service", "group", "name"], {}),
    "enable-group": ("enableGroup", ["service", "group"], {}),
    "scheduler": ("changeScheduler", ["service", "group", "scheduler"], {}),
    "new-group": ("newGroup", ["service", "group", "scheduler"], {}),
    "del-group": ("delGroup", ["service", "group"], {}),
    "new-service": ("newService", ["service", "listen"], {}),
    "del-service": ("delService", ["service"], {}),
    "reopen-log": ("reopenLog", [], {}),
    "shutdown": ("shutdown", ["[drainSeconds]"], {"drainSeconds": float}),
}


def _parser():
    parser = argparse.ArgumentParser(
        prog="txlbctl",
        description="Drive a running txlb through its XML-RPC admin.",
        epilog="commands: " + "; ".join(
            f"{name} {' '.join(a.upper() for a in args)}".strip() for name, (_, args, _) in COMMANDS.items()
        ),
    )
    parser.add_argument("--url", default=os.environ.get("TXLB_URL", DEFAULT_URL),
                        help="the admin's XML-RPC URL (default $TXLB_URL or %(default)s)")
    parser.add_argument("--user", help="the admin user")
    parser.add_argument("--password-file", help="a file holding the user's password")
    parser.add_argument("--json", action="store_true", help="print results as JSON, for scripts")
    parser.add_argument("command", choices=sorted(COMMANDS), metavar="COMMAND")
    parser.add_argument("args", nargs="*")
    return parser


def _url(url, user, passwordFile):
    if not user:
        return url
    password = ""
    if passwordFile:
        with open(passwordFile, encoding="utf-8") as f:
            password = f.readline().rstrip("\r\n")
    parts = urlsplit(url)
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{parts.hostname}"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path or "/RPC2", parts.query, parts.fragment))


def _arguments(command, values):
    method, names, convert = COMMANDS[command]
    required = [n for n in names if not n.startswith("[")]
    if not len(required) <= len(values) <= len(names):
        shape = " ".join(n.upper() for n in names)
        raise ValueError(f"usage: txlbctl {command} {shape}".rstrip())
    args = []
    for name, value in zip(names, values):
        key = name.strip("[]")
        if key in convert:
            try:
                value = convert[key](value)
            except ValueError:
                raise ValueError(f"{key} must be a number, not {value!r}") from None
        args.append(value)
    return method, args


def _when(seconds):
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(seconds)) if seconds else "-"


def _statusTable(status):
    rows = [("SERVICE", "GROUP", "HOST", "ADDRESS", "STATE", "WEIGHT", "OPEN", "TOTAL", "FAILED", "IN", "OUT", "LAST FAILURE")]
    for sname, service in sorted(status.items()):
        for gname, group in sorted(service["groups"].items()):
            mark = "*" if gname == service["enabledGroup"] else ""
            if not group["hosts"]:
                rows.append((sname, gname + mark, "-", "", "", "", "", "", "", "", "", ""))
            for hname, h in sorted(group["hosts"].items()):
                failure = h["lastFailure"]
                rows.append((
                    sname, gname + mark, hname, h["address"], h["state"], str(h["weight"]),
                    str(h["open"]), str(int(h["total"])), str(int(h["failed"])),
                    str(int(h["bytesIn"])), str(int(h["bytesOut"])),
                    f"{_when(failure['time'])} {failure['reason']}" if failure else "-",
                ))
    return _table(rows)


def _table(rows):
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows)


def _workersTable(workers):
    rows = [("WORKER", "PID", "STATE", "RESTARTS", "REFUSED", "ACCEPTED")]
    for w in workers:
        rows.append((str(w["index"]), str(w["pid"] or "-"), w["state"], str(w["restarts"]),
                     str(w.get("refused", 0)), str(int(w["accepted"]))))
    return _table(rows)


def _routesTable(routes):
    rows = [("ROUTE", "GROUP", "MATCH")]
    for r in routes:
        rows.append((r["route"], r["group"] or "(enabled)", r["match"]))
    return _table(rows)


def _human(command, result):
    if command == "status":
        return _statusTable(result)
    if command == "routes":
        return _routesTable(result)
    if command == "workers":
        return _workersTable(result)
    if command == "services":
        return "\n".join(result)
    if isinstance(result, (dict, list)):
        return json.dumps(result, indent=2, sort_keys=True)
    return "ok" if result is True else str(result)


def main(argv=None):
    """
    Run C{txlbctl}; return the exit status.
    """
    args = _parser().parse_args(argv)
    try:
        method, values = _arguments(args.command, args.args)
        url = _url(args.url, args.user, args.password_file)
    except (ValueError, OSError) as e:
        print(f"txlbctl: {e}", file=sys.stderr)
        return 2
    proxy = xmlrpc.client.ServerProxy(url, allow_none=False)
    try:
        result = getattr(proxy, method)(*values)
    except xmlrpc.client.Fault as fault:
        print(f"txlbctl: {fault.faultString} (fault {fault.faultCode})", file=sys.stderr)
        return 1
    except xmlrpc.client.ProtocolError as e:
        reason = "wrong or missing credentials (--user, --password-file)" if e.errcode == 401 else e.errmsg
        print(f"txlbctl: {args.url} answered {e.errcode}: {reason}", file=sys.stderr)
        return 1
    except (OSError, socket.error, xmlrpc.client.Error) as e:
        print(f"txlbctl: cannot reach the admin at {args.url}: {e}", file=sys.stderr)
        return 1
    print(json.dumps(result, sort_keys=True) if args.json else _human(args.command, result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
