"""
C{txlb heartbeat}: the agent a backend runs beside itself to send
heartbeats to the balancer.
"""

import argparse
import socket
import sys

from txlb.address import splitHostPort
from txlb.errors import ConfigError
from txlb.health._sender import DEFAULT_EVERY, HeartbeatSender
from txlb.health._wire import readKey


def _destination(text):
    hostPort = splitHostPort(text)
    if hostPort is None:
        raise ConfigError(f"--to {text!r} must be HOST:PORT or [IPv6]:PORT")
    host, port = hostPort
    try:
        info = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
    except socket.gaierror as e:
        raise ConfigError(f"--to {text!r}: cannot resolve {host!r}: {e.strerror}") from None
    return info[0][4][0], port


def _positive(text):
    value = float(text)
    if not value > 0:
        raise ValueError(text)
    return value


def parser():
    """
    The argument parser of C{txlb heartbeat}.
    """
    p = argparse.ArgumentParser(
        prog="txlb heartbeat",
        description="Send signed heartbeats for one backend to a txlb heartbeat listener "
        "until stopped (SIGTERM or Ctrl-C).",
    )
    p.add_argument("--to", required=True, metavar="HOST:PORT", help="the listener's address")
    p.add_argument("--key-file", required=True, metavar="FILE", help="the shared key's file")
    p.add_argument("--name", required=True, help="the backend's host name in its group")
    p.add_argument(
        "--address", required=True, metavar="HOST:PORT", help="where clients reach the backend"
    )
    p.add_argument("--weight", type=int, default=1, metavar="N", help="the backend's weight (default 1)")
    p.add_argument(
        "--every", type=_positive, default=DEFAULT_EVERY, metavar="S",
        help=f"seconds between heartbeats (default {DEFAULT_EVERY:g})",
    )
    p.add_argument("--drain", action="store_true", help="ask for no new clients")
    return p


def heartbeat(argv, reactor=None):
    """
    Run C{txlb heartbeat ARGS}; return the exit status.
    """
    args = parser().parse_args(argv)
    try:
        to = _destination(args.to)
        try:
            key = readKey(args.key_file, warn=lambda text: print(f"txlb heartbeat: warning: {text}", file=sys.stderr))
        except ValueError as e:
            raise ConfigError(str(e)) from None
        if reactor is None:
            from twisted.internet import reactor
        sender = HeartbeatSender(
            reactor, to, key, args.name, args.address, weight=args.weight,
            every=args.every, drain=args.drain,
        )
    except ConfigError as e:
        print(f"txlb heartbeat: {e}", file=sys.stderr)
        return 1
    state = "drain" if args.drain else "up"
    print(
        f"txlb heartbeat: {args.name} ({args.address}, {state}) to {args.to} "
        f"every {args.every:g} s",
        flush=True,
    )
    reactor.callWhenRunning(sender.startService)
    reactor.addSystemEventTrigger("before", "shutdown", sender.stopService)
    reactor.run()
    print(f"txlb heartbeat: stopped after {sender.sent} heartbeats", flush=True)
    return 0
