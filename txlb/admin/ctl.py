"""
C{txlbctl}: drive a running txlb through its XML-RPC admin.

    txlbctl [--url URL] [--user U [--password-file F]] [--json] COMMAND ARGS...

Each command takes the XML-RPC method's arguments in the same order
(C{txlbctl COMMAND --help} shows them); the URL defaults to C{$TXLB_URL},
else C{http://127.0.0.1:8001/RPC2}, and may be written without its scheme
and path (C{127.0.0.1:8001}). C{diff FILE.tac}, C{apply FILE.tac} and
C{dump} compare, apply and print whole configurations
(L{txlb.admin._ctlconfig}, C{doc/reconfiguration.rst}).
"""

import argparse
import getpass
import json
import os
import socket
import sys
import time
import xmlrpc.client
from urllib.parse import quote, urlsplit, urlunsplit

from txlb.admin._ctlconfig import LOCAL, Stop

DEFAULT_URL = "http://127.0.0.1:8001/RPC2"

#: command: (XML-RPC method, argument names ("[name]": optional), converters
#: by name, help)
COMMANDS = {
    "status": ("getStatus", [], {}, "show every host's state and counters"),
    "config": ("getConfig", [], {}, "show the configuration as it runs now"),
    "services": ("listServices", [], {}, "list the services"),
    "workers": ("getWorkers", [], {}, "list the worker processes (--workers)"),
    "routes": ("getRoutes", ["service"], {}, "list a service's routes in the order they are tried"),
    "add-host": ("addHost", ["service", "group", "name", "address", "[weight]"], {"weight": "weight"},
                 "add a host (ADDRESS is HOST:PORT, [IPv6]:PORT or an endpoint string; WEIGHT is a "
                 "number or JSON settings such as '{\"backup\": true, \"maxconn\": 100}')"),
    "set-host": ("setHost", ["service", "group", "name", "settings"], {"settings": "json"},
                 "change a host's settings, given as JSON: address, weight, backup, maxconn"),
    "del-host": ("delHost", ["service", "group", "name"], {},
                 "remove a host; its open connections finish"),
    "del-all-hosts": ("delAllHosts", ["service", "group"], {}, "remove every host of a group"),
    "weight": ("setWeight", ["service", "group", "name", "weight"], {"weight": int},
               "change a host's weight (0 takes no new connections)"),
    "drain": ("hostDrain", ["service", "group", "name"], {},
              "drain a host: no new clients, open connections finish (undo with up)"),
    "down": ("hostAdminDown", ["service", "group", "name"], {},
             "put a host in maintenance; open connections finish"),
    "up": ("hostAdminUp", ["service", "group", "name"], {},
           "take a host out of maintenance or draining"),
    "retry": ("retryHost", ["service", "group", "name"], {}, "check a host now"),
    "enable-group": ("enableGroup", ["service", "group"], {}, "send new clients to this group"),
    "scheduler": ("changeScheduler", ["service", "group", "scheduler"], {},
                  "replace a group's scheduler (see twistd txlb --scheduler help)"),
    "new-group": ("newGroup", ["service", "group", "scheduler"], {}, "add an empty group"),
    "del-group": ("delGroup", ["service", "group"], {}, "delete a group that is not the enabled one"),
    "new-service": ("newService", ["service", "listen"], {},
                    "add a service listening on an endpoint, with an empty group 'default'"),
    "del-service": ("delService", ["service"], {}, "stop and delete a service; open connections drain"),
    "add-service": ("addService", ["service", "config"], {"config": "json"},
                    "add a whole service, given as JSON as config shows one"),
    "add-listener": ("addListener", ["service", "endpoint"], {}, "listen on one more endpoint"),
    "del-listener": ("delListener", ["service", "endpoint"], {},
                     "stop listening on an endpoint; open connections go on"),
    "set-service": ("setService", ["service", "settings"], {"settings": "json"},
                    "change a service's settings, given as JSON (connectTimeout, idleTimeout, ...)"),
    "add-group": ("addGroup", ["service", "group", "config"], {"config": "json"},
                  "add a whole group with its hosts, given as JSON as config shows one"),
    "set-group": ("setGroup", ["service", "group", "settings"], {"settings": "json"},
                  "change a group's settings, given as JSON (scheduler, queueSize, check, ...; false: none)"),
    "reload-certificates": ("reloadCertificates", [], {},
                            "re-read the TLS certificates from disk (open connections keep theirs)"),
    "reopen-log": ("reopenLog", [], {}, "reopen (rotate) txlb's log file"),
    "shutdown": ("shutdown", ["[drainSeconds]"], {"drainSeconds": float},
                 "stop txlb, letting open connections finish for up to DRAINSECONDS"),
}


class _Parser(argparse.ArgumentParser):
    """
    An argument parser whose mistakes are one line, pointing at C{--help}.
    """

    def error(self, message):
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _common(parser, suppress):
    default = (lambda value: argparse.SUPPRESS) if suppress else (lambda value: value)
    parser.add_argument("--url", default=default(os.environ.get("TXLB_URL", DEFAULT_URL)),
                        help="the admin's XML-RPC URL; HOST:PORT is enough "
                             f"(default $TXLB_URL or {DEFAULT_URL})")
    parser.add_argument("--user", default=default(None), help="the admin user")
    parser.add_argument("--password-file", default=default(None),
                        help="a file holding the user's password (without one, txlbctl asks on the terminal)")
    parser.add_argument("--json", action="store_true", default=default(False),
                        help="print results as JSON, for scripts")


def _parser():
    parser = _Parser(
        prog="txlbctl",
        description="Drive a running txlb through its XML-RPC admin.",
        epilog="txlbctl COMMAND --help shows a command's arguments.",
    )
    _common(parser, suppress=False)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True
    table = dict(COMMANDS)
    table.update({name: (methods, names, {}, summary)
                  for name, (names, summary, _, _, methods) in LOCAL.items()})
    for name, (method, names, convert, summary) in table.items():
        sub = commands.add_parser(name, help=summary, description=f"{summary[0].upper()}{summary[1:]} "
                                  f"(XML-RPC {method}).")
        _common(sub, suppress=True)
        for argName in names:
            key = argName.strip("[]")
            kind = convert.get(key)
            sub.add_argument(
                key, metavar=key.upper(), nargs="?" if argName.startswith("[") else None,
                type=_converter(key, kind) if kind else str,
            )
    return parser


def _json(text):
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError(text)
    return value


def _weight(text):
    return _json(text) if text.lstrip().startswith("{") else int(text)


_KINDS = {"json": (_json, "a JSON object such as '{\"weight\": 2}'"), "weight": (_weight, "a number or a JSON object")}


def _converter(name, kind):
    kind, what = _KINDS.get(kind, (kind, "a number"))

    def convert(text):
        try:
            return kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be {what}, not {text!r}") from None

    convert.__name__ = name
    return convert


def normalURL(url):
    """
    C{url} with C{http://} added when it has no scheme and C{/RPC2} when it
    has no path.

    @raise ValueError: for a URL that is not http(s) or names no host.
    """
    if "://" not in url:
        url = "http://" + url
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"--url {url!r}: the admin speaks http or https, not {parts.scheme}")
    try:
        parts.port
    except ValueError:
        raise ValueError(f"--url {url!r}: the port must be a number") from None
    if not parts.hostname:
        raise ValueError(f"--url {url!r} names no host (write it as 127.0.0.1:8001)")
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/RPC2", parts.query, parts.fragment))


def readPassword(passwordFile, user, stdin=None, ask=getpass.getpass):
    """
    The password of C{user}: the first line of C{passwordFile}, else asked
    on the terminal.

    @raise ValueError: with one sentence, when the file cannot be read or
        there is no terminal to ask on.
    """
    stdin = sys.stdin if stdin is None else stdin
    if passwordFile:
        try:
            with open(passwordFile, encoding="utf-8") as f:
                return f.readline().rstrip("\r\n")
        except OSError as e:
            raise ValueError(f"cannot read the password file {passwordFile}: {e.strerror or e}") from None
        except UnicodeDecodeError:
            raise ValueError(f"the password file {passwordFile} is not UTF-8 text") from None
    if not stdin.isatty():
        raise ValueError(f"--user {user} needs --password-file FILE when not run on a terminal")
    try:
        return ask(f"Password for {user}: ")
    except (EOFError, KeyboardInterrupt):
        raise ValueError("no password given") from None


def _url(url, user, passwordFile):
    url = normalURL(url)
    if not user:
        return url
    password = readPassword(passwordFile, user)
    parts = urlsplit(url)
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{host}"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _arguments(args):
    method, names, _, _ = COMMANDS[args.command]
    values = [getattr(args, n.strip("[]")) for n in names]
    while values and values[-1] is None:
        values.pop()
    return method, values


def _when(seconds):
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(seconds)) if seconds else "-"


def _statusTable(status):
    rows = [("SERVICE", "GROUP", "HOST", "ADDRESS", "STATE", "WEIGHT", "OPEN", "TOTAL", "FAILED", "IN", "OUT", "LAST FAILURE")]
    store = None
    for sname, service in sorted(status.items()):
        if "groups" not in service:
            store = service  # the etcd store's state (doc/scale-out.rst)
            continue
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
    if store is not None:
        return _table(rows) + f"\n\nshared through etcd {store['prefix']}: {store['text']}"
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
    parser = _parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv:
        parser.print_help(sys.stderr)
        return 2
    args = parser.parse_args(argv)
    local = LOCAL.get(args.command)
    failed = local[2] if local is not None else 1
    try:
        if local is None:
            method, values = _arguments(args)
        url = _url(args.url, args.user, args.password_file)
    except ValueError as e:
        print(f"txlbctl: {e}", file=sys.stderr)
        return 2
    shown = normalURL(args.url)
    proxy = xmlrpc.client.ServerProxy(url, allow_none=False)

    def call(method, *values):
        return _call(proxy, shown, failed, method, values)

    try:
        if local is not None:
            return local[3](call, args, _print)
        result = call(method, *values)
    except Stop as e:
        return e.status
    return _print(json.dumps(result, sort_keys=True) if args.json else _human(args.command, result))


def _call(proxy, shown, failed, method, values):
    """
    Call C{method}; on any failure print one sentence and raise L{Stop}
    with exit status C{failed}.
    """
    try:
        return getattr(proxy, method)(*values)
    except xmlrpc.client.Fault as fault:
        print(f"txlbctl: {fault.faultString} (fault {fault.faultCode})", file=sys.stderr)
    except xmlrpc.client.ProtocolError as e:
        reason = "wrong or missing credentials (--user, --password-file)" if e.errcode == 401 else e.errmsg
        hint = " (is that the txlb admin? it serves /RPC2)" if e.errcode in (404, 405, 501) else ""
        print(f"txlbctl: {shown} answered {e.errcode}: {reason}{hint}", file=sys.stderr)
    except (OSError, socket.error, xmlrpc.client.Error, ValueError) as e:
        why = getattr(e, "strerror", None) or str(e)
        print(f"txlbctl: cannot reach the admin at {shown}: {why}", file=sys.stderr)
    raise Stop(failed)


def _print(text):
    """
    Print C{text}; a reader that went away (C{txlbctl status | head}) is
    not an error.
    """
    try:
        print(text)
        sys.stdout.flush()
    except BrokenPipeError:
        # Python would complain again when it flushes stdout at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
