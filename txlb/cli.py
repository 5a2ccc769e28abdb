"""
The C{txlb} command: local tools beside C{twistd txlb}.

Each subcommand is a function taking the remaining arguments and returning
an exit status; C{SUBCOMMANDS} maps names to them.
"""

import argparse
import os
import sys

from txlb import __version__
from txlb.errors import ConfigError


def checkConfig(argv):
    """
    Validate a .tac file (or C{twistd txlb} flags after C{--flags}) and
    print everything it would run, without binding or starting anything.
    """
    parser = argparse.ArgumentParser(
        prog="txlb check",
        description=(
            "Validate a configuration without running it: load a .tac file (or the "
            "twistd txlb flags given after --flags), report the first mistake in one "
            "sentence, else print every service, group, host, health check, ejection, "
            "heartbeat and admin with all their settings. Nothing is bound or started. "
            "(Not to be confused with twistd txlb --check, which sets up health checks.)"
        ),
        usage="txlb check FILE.tac | txlb check --flags TWISTD-TXLB-FLAGS...",
    )
    parser.add_argument("tac", nargs="?", help="the .tac file")
    parser.add_argument("--flags", nargs=argparse.REMAINDER, metavar="FLAG",
                        help="check these twistd txlb flags instead (everything after --flags)")
    args = parser.parse_args(argv)
    if (args.tac is None) == (args.flags is None):
        print("txlb check: give a .tac file or --flags FLAGS... (see txlb check --help)", file=sys.stderr)
        return 2
    from txlb.describe import dryRun

    if args.flags is not None:
        top, error = _fromFlags(args.flags)
        shown = "the flags"
    else:
        from txlb.tacfile import loadTac

        shown = args.tac
        try:
            top, error = loadTac(args.tac), None
        except ConfigError as e:
            top, error = None, str(e)
    if error is not None:
        print(f"txlb check: {error}", file=sys.stderr)
        return 1
    status = dryRun(top, "txlb check")
    if status == 0:
        print(f"{shown}: OK")
    return status


def _fromFlags(flags):
    """
    Parse C{twistd txlb} flags; return C{(service tree, None)} or C{(None,
    one sentence)}.
    """
    from twisted.python import usage

    from txlb.tap import Options

    options = Options()
    try:
        options.parseOptions([f for f in flags if f != "--dry-run"])
        if options["workers"] != "1":
            print(f"workers: {options['workers']} processes sharing the listeners")
    except usage.UsageError as e:
        return None, str(e)
    except SystemExit as e:
        if e.code in (0, None):
            return None, "nothing to check (those flags only print something)"
        message = str(e.code)
        prefix = "twistd txlb: "
        return None, message[len(prefix):] if message.startswith(prefix) else message
    return options.service, None


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
    if any(a == "--etcd" or a.startswith("--etcd=") for a in argv):
        from txlb.etcd._agent import heartbeat
    else:
        from txlb.health._agent import heartbeat

    return heartbeat(argv)


def passwd(argv):
    """
    Add, change or delete an admin user.
    """
    from txlb.admin.passwd import passwd as run

    return run(argv)


def convert(argv):
    """
    Print the .tac for a pythondirector or txLoadBalancer XML file.
    """
    from txlb.convert import convert as run

    return run(argv)


SUBCOMMANDS = {
    "passwd": (passwd, "add, change or delete an admin user (txlb passwd FILE USER)"),
    "check": (checkConfig, "validate a .tac file (or --flags ...) and print what it would run"),
    "convert": (convert, "print the .tac for a pythondirector XML file (txlb convert OLD.xml)"),
    "schedulers": (listSchedulers, "list the schedulers found"),
    "version": (version, "print the version"),
    "heartbeat": (sendHeartbeats, "send heartbeats for a backend to a balancer"),
}


def main(argv=None):
    """
    Run C{txlb SUBCOMMAND ...}.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in ("-V", "--version"):
        return version(argv[1:])
    if not argv or argv[0] in ("-h", "--help", "help"):
        print("usage: txlb SUBCOMMAND [ARGS]\n\nSubcommands:")
        for name, (_, summary) in sorted(SUBCOMMANDS.items()):
            print(f"  {name:<12} {summary}")
        print("\n  --version    print the version")
        print("\nThe balancer itself runs under twistd: twistd -n txlb --help")
        return 0 if argv else 2
    name, rest = argv[0], argv[1:]
    if name not in SUBCOMMANDS:
        print(
            f"txlb: unknown subcommand {name!r}; try one of {', '.join(sorted(SUBCOMMANDS))}",
            file=sys.stderr,
        )
        return 2
    try:
        status = SUBCOMMANDS[name][0](rest)
        sys.stdout.flush()
    except BrokenPipeError:
        # A reader that stopped early (txlb check ... | head) is no error.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return status


if __name__ == "__main__":
    sys.exit(main())
