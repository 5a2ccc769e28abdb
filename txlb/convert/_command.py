"""
C{txlb convert OLD.xml}: print the C{.tac} that runs what a pythondirector
or txLoadBalancer XML file ran; warnings and what the user must still do go
to standard error.
"""

import argparse
import os
import shlex
import sys

import attr

from txlb.convert._pythondirector import interpret
from txlb.convert._tac import _printable, tacSource
from txlb.convert._xml import readXML
from txlb.errors import ConfigError

#: The largest file read; pythondirector files are a few kilobytes.
MAX_SIZE = 16 * 1024 * 1024


def convertFile(path, usersFile=None, legacyWebAPI=False):
    """
    Read the XML file at C{path}; return C{(conversion, tacText)}.

    @param usersFile: the users file the admin reads (default: beside
        C{path}, named like it with C{.users}).
    @param legacyWebAPI: let the admin answer pythondirector's web API too.
    @raise ConfigError: one sentence, with the line where there is one.
    """
    shown = os.path.basename(path)
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_SIZE + 1)
    except OSError as e:
        raise ConfigError(f"cannot read {path}: {e.strerror}") from None
    if len(data) > MAX_SIZE:
        raise ConfigError(f"{shown} is larger than {MAX_SIZE // (1024 * 1024)} MB; not a pythondirector file")
    if not data.strip():
        raise ConfigError(f"{shown} is empty")
    if usersFile is None:
        usersFile = os.path.splitext(os.path.abspath(path))[0] + ".users"
    conversion = interpret(readXML(data, shown), shown, usersFile)
    if legacyWebAPI:
        admins = [attr.evolve(admin, legacyWebAPI=True) for admin in conversion.balancer.admin]
        conversion = attr.evolve(conversion, balancer=attr.evolve(conversion.balancer, admin=admins))
    return conversion, tacSource(conversion, shown)


def _passwordAdvice(conversion):
    lines = [
        "pythondirector's crypt() password hashes cannot be carried over (txlb keeps salted "
        "scrypt hashes in a users file of its own); give each admin user a new password with:"
    ]
    for name, role in conversion.users:
        command = ["txlb", "passwd", conversion.usersFile, name, "--role", role]
        lines.append("    " + _printable(" ".join(shlex.quote(part) for part in command)))
    return lines


def convert(argv):
    """
    Run C{txlb convert}; return the exit status.
    """
    parser = argparse.ArgumentParser(
        prog="txlb convert",
        description="Print the .tac that runs what a pythondirector or txLoadBalancer XML "
                    "configuration ran. Warnings go to standard error.",
    )
    parser.add_argument("xml", help="the old XML configuration")
    parser.add_argument("--users-file", default=None,
                        help="the admin users file the .tac names (default: OLD.users beside OLD.xml)")
    parser.add_argument("--legacy-web-api", action="store_true",
                        help="let the admin answer pythondirector's web API too (/running.txt, /addHost?...)")
    args = parser.parse_args(argv)
    try:
        conversion, text = convertFile(args.xml, args.users_file, args.legacy_web_api)
    except ConfigError as e:
        print(f"txlb convert: {e}", file=sys.stderr)
        return 1
    sys.stdout.write(text)
    sys.stdout.flush()
    notices = [f"warning: {w}" for w in conversion.warnings]
    if args.legacy_web_api and not conversion.balancer.admin:
        notices.append("warning: --legacy-web-api does nothing: the file has no <admin>")
    if conversion.users:
        notices += _passwordAdvice(conversion)
    if conversion.logFile is not None:
        notices.append(
            f"pythondirector logged to {_printable(conversion.logFile)}; txlb logs where twistd does: "
            f"run it with twistd --logfile {_printable(shlex.quote(conversion.logFile))} (the .tac's "
            "first lines say so)"
        )
    for line in notices:
        print(line if line.startswith("    ") else f"txlb convert: {line}", file=sys.stderr)
    return 0
