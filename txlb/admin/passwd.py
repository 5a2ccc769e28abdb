"""
C{txlb passwd FILE USER [--role ROLE] [--password-stdin] [--delete]}: add,
change or remove an admin user. Passwords are read from the terminal (twice)
or once from standard input, and only their scrypt hash is written.
Passwords shorter than L{MIN_PASSWORD_LENGTH} characters are refused.
"""

import argparse
import getpass
import os
import sys

from txlb.admin._users import ROLES, UserFile, hashPassword
from txlb.errors import ConfigError

#: The shortest password C{txlb passwd} accepts.
MIN_PASSWORD_LENGTH = 8


def passwd(argv):
    """
    Run C{txlb passwd}; return the exit status.
    """
    parser = argparse.ArgumentParser(
        prog="txlb passwd", description="Add, change or delete a txlb admin user."
    )
    parser.add_argument("file", help="the users file (created if missing)")
    parser.add_argument("user", help="the user's name")
    parser.add_argument("--role", choices=ROLES, default=None, help="admin (default for a new user) or readonly")
    parser.add_argument("--password-stdin", action="store_true",
                        help=f"read the password once from standard input (at least {MIN_PASSWORD_LENGTH} characters)")
    parser.add_argument("--delete", action="store_true", help="remove the user")
    args = parser.parse_args(argv)
    if not args.user or ":" in args.user or args.user.strip() != args.user:
        print("txlb passwd: a user name must be non-empty, without ':' or spaces around it", file=sys.stderr)
        return 2
    try:
        if not os.path.exists(args.file):
            fd = os.open(args.file, os.O_WRONLY | os.O_CREAT, 0o600)
            os.close(fd)
        users = UserFile(args.file)
        entries = dict(users.load())
    except (ConfigError, OSError) as e:
        print(f"txlb passwd: {e}", file=sys.stderr)
        return 1
    if args.delete:
        if args.user not in entries:
            print(f"txlb passwd: {args.file} has no user {args.user!r}", file=sys.stderr)
            return 1
        del entries[args.user]
        try:
            users.save(entries)
        except OSError as e:
            print(f"txlb passwd: cannot write {args.file}: {e.strerror or e}", file=sys.stderr)
            return 1
        print(f"deleted {args.user}")
        return 0
    password = _readPassword(args.password_stdin)
    if password is None:
        return 1
    existed = args.user in entries
    role = args.role or (entries[args.user][0] if existed else "admin")
    entries[args.user] = (role, hashPassword(password))
    try:
        users.save(entries)
    except OSError as e:
        print(f"txlb passwd: cannot write {args.file}: {e.strerror or e}", file=sys.stderr)
        return 1
    print(f"{'changed' if existed else 'added'} {args.user} ({role})")
    return 0


def _readPassword(fromStdin):
    if fromStdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        try:
            password = getpass.getpass("Password: ")
            again = getpass.getpass("Password (again): ")
        except (EOFError, KeyboardInterrupt):
            print("\ntxlb passwd: no password given", file=sys.stderr)
            return None
        if password != again:
            print("txlb passwd: the passwords differ; nothing changed", file=sys.stderr)
            return None
    if len(password) < MIN_PASSWORD_LENGTH:
        print(
            f"txlb passwd: a password needs at least {MIN_PASSWORD_LENGTH} characters; nothing changed",
            file=sys.stderr,
        )
        return None
    return password
