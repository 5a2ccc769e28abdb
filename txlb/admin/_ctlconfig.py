"""
The C{txlbctl} commands that compare, apply and print whole
configurations: C{diff SITE.tac}, C{apply SITE.tac} and C{dump}. The
C{.tac} is read here, on the machine running C{txlbctl}, for its
description only (nothing is bound or started); see
C{doc/reconfiguration.rst}.
"""

import json
import sys

from txlb.config import Balancer
from txlb.diff import diff
from txlb.errors import ConfigError
from txlb.plain import fromPlain, toPlain
from txlb.tacwriter import tacSource


class Stop(Exception):
    """
    End C{txlbctl} with exit status C{status} (the sentence is printed).
    """

    def __init__(self, status):
        Exception.__init__(self, status)
        self.status = status


def _fail(message, status):
    print(f"txlbctl: {message}", file=sys.stderr)
    raise Stop(status)


def _fileDescription(path, status):
    from txlb.tacfile import describeTac

    try:
        return describeTac(path)
    except ConfigError as e:
        _fail(str(e), status)


def _running(call, status):
    data = call("getConfig")
    try:
        return fromPlain(Balancer, data, "the running configuration")
    except ConfigError as e:
        _fail(f"the admin's answer is not a configuration txlbctl knows: {e}", status)


def diffCommand(call, args, output):
    """
    C{txlbctl diff SITE.tac}: print the commands that make the running
    balancer match the file; exit 0 when nothing differs, 1 when
    something does, 2 on an error.
    """
    wanted = _fileDescription(args.file, 2)
    changes = diff(_running(call, 2), wanted)
    if args.json:
        output(json.dumps([{"method": c.method, "args": list(c.args)} for c in changes], sort_keys=True))
    elif changes:
        output("\n".join(c.command() for c in changes))
    return 1 if changes else 0


def applyCommand(call, args, output):
    """
    C{txlbctl apply SITE.tac}: make the running balancer match the file
    through one C{applyConfig}, all or nothing; print the changes made.
    """
    wanted = _fileDescription(args.file, 1)
    changes = call("applyConfig", toPlain(wanted))
    if args.json:
        return output(json.dumps(changes))
    return output("\n".join(changes) if changes else "nothing to change")


def dumpCommand(call, args, output):
    """
    C{txlbctl dump}: print a .tac that runs the configuration running now.
    """
    running = _running(call, 1)
    return output(tacSource(running, "written by txlbctl dump").rstrip("\n"))


#: command: (argument names, help, exit status on an error, function,
#: the XML-RPC methods it calls)
LOCAL = {
    "diff": (["file"], "print the txlbctl commands that make the balancer match FILE (a .tac); "
             "exit 0: nothing differs, 1: something does, 2: error", 2, diffCommand, "getConfig"),
    "apply": (["file"], "make the balancer match FILE (a .tac), all or nothing; prints the changes",
              1, applyCommand, "applyConfig"),
    "dump": ([], "print a .tac that runs the configuration running now", 1, dumpCommand, "getConfig"),
}
