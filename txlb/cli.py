"""
The C{txlb} command: local tools beside C{twistd txlb}.

Each subcommand is a function taking the remaining arguments and returning
an exit status; C{SUBCOMMANDS} maps names to them.
"""

import argparse
import sys

from txlb import __version__
from txlb.errors import ConfigError


def checkConfig(argv):
    """
    Load a .tac and print the services it defines, without binding anything.
    """
    parser = argparse.ArgumentParser(
        prog="txlb check", description="Check a .tac file and print what it runs."
    )
    parser.add_argument("tac", help="the .tac file")
    args = parser.parse_args(argv)
    from txlb.balancer import LoadBalancer
    from txlb.tacfile import loadTac

    try:
        top = loadTac(args.tac)
    except ConfigError as e:
        print(f"txlb check: {e}", file=sys.stderr)
        return 1
    balancers = [s for s in _walk(top) if isinstance(s, LoadBalancer)]
    for balancer in balancers:
        for proxy in balancer.proxies.values():
            listen = ", ".join(l.description for l in proxy.listeners) or "(nothing)"
            print(f"service {proxy.name}: listens on {listen}")
            edge = _edgeSummary(proxy)
            if edge:
                print(f"  {edge}")
            for pool in proxy.pools.values():
                mark = " (enabled)" if pool.name == proxy.enabledGroup else ""
                print(f"  group {pool.name}{mark}: scheduler {pool.schedulerSpec}")
                for host in pool.hosts.values():
                    flags = f"weight={host.weight}"
                    if host.backup:
                        flags += ",backup"
                    if host.maxconn is not None:
                        flags += f",maxconn={host.maxconn}"
                    if host.proxy is not None:
                        flags += f",proxy={host.proxy}"
                    print(f"    host {host.name}: {host.address} {flags}")
    print(f"{args.tac}: OK")
    return 0


def _edgeSummary(proxy):
    """
    A service's access lists and limits in one line, or "" without any.
    """
    parts = []
    if proxy.access.allow:
        parts.append("allow " + " ".join(str(n) for n in proxy.access.allow))
    if proxy.access.deny:
        parts.append("deny " + " ".join(str(n) for n in proxy.access.deny))
    limits = proxy.limits
    if limits is not None and limits.maxConns is not None:
        parts.append(f"max-client-conns {limits.maxConns}")
    if limits is not None and limits.maxRate is not None:
        parts.append(f"max-client-rate {limits.maxRate}/s")
    if proxy.cap.limit is not None:
        parts.append(f"maxconn {proxy.cap.limit}")
    return "; ".join(parts)


def _walk(service):
    yield service
    for child in getattr(service, "services", ()):
        yield from _walk(child)


def listSchedulers(argv):
    """
    Print every scheduler found, built-in and plugin.
    """
    from txlb.tap import schedulerHelp

    print(schedulerHelp())
    return 0


def version(argv):
    """
    Print txlb's version.
    """
    print(f"txlb {__version__}")
    return 0


def sendHeartbeats(argv):
    """
    Run the heartbeat agent (see C{txlb heartbeat --help}).
    """
    from txlb.health._agent import heartbeat

    return heartbeat(argv)


def passwd(argv):
    """
    Add, change or delete an admin user.
    """
    from txlb.admin.passwd import passwd as run

    return run(argv)


SUBCOMMANDS = {
    "passwd": (passwd, "add, change or delete an admin user (txlb passwd FILE USER)"),
    "check": (checkConfig, "check a .tac file and print what it runs"),
    "schedulers": (listSchedulers, "list the schedulers found"),
    "version": (version, "print the version"),
    "heartbeat": (sendHeartbeats, "send heartbeats for a backend to a balancer"),
}


def main(argv=None):
    """
    Run C{txlb SUBCOMMAND ...}.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print("usage: txlb SUBCOMMAND [ARGS]\n\nSubcommands:")
        for name, (_, summary) in sorted(SUBCOMMANDS.items()):
            print(f"  {name:<12} {summary}")
        print("\nThe balancer itself runs under twistd: twistd -n txlb --help")
        return 0 if argv else 2
    name, rest = argv[0], argv[1:]
    if name not in SUBCOMMANDS:
        print(
            f"txlb: unknown subcommand {name!r}; try one of {', '.join(sorted(SUBCOMMANDS))}",
            file=sys.stderr,
        )
        return 2
    return SUBCOMMANDS[name][0](rest)


if __name__ == "__main__":
    sys.exit(main())
