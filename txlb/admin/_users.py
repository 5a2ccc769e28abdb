"""
Admin users: a password file kept apart from the configuration, holding
salted scrypt hashes and a role per user, re-read when it changes.

A line of the file: C{name:role:scrypt:N:r:p:salt:hash} (salt and hash in
base64). Roles: C{admin} (everything) and C{readonly} (information, the
status page and the metrics).
"""

import base64
import hashlib
import hmac
import os

from twisted.cred.portal import IRealm
from twisted.logger import Logger
from twisted.web.resource import IResource
from zope.interface import implementer

from txlb._filemode import secretFileProblem
from txlb.errors import ConfigError

ROLES = ("admin", "readonly")
_N, _R, _P = 2**14, 8, 1
#: How often (seconds) the server looks at the file's time stamp at most.
CHECK_EVERY = 1.0
WHAT = "admin users file"


def hashPassword(password, salt=None):
    """
    A salted scrypt hash of C{password}, as stored in the file.
    """
    salt = salt if salt is not None else os.urandom(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return "scrypt:%d:%d:%d:%s:%s" % (
        _N, _R, _P, base64.b64encode(salt).decode(), base64.b64encode(digest).decode()
    )


def verifyPassword(password, encoded):
    """
    True when C{password} matches the stored C{encoded} hash.
    """
    try:
        kind, n, r, p, salt, digest = encoded.split(":")
        if kind != "scrypt":
            return False
        expected = base64.b64decode(digest)
        got = hashlib.scrypt(
            password.encode("utf-8"), salt=base64.b64decode(salt),
            n=int(n), r=int(r), p=int(p), dklen=len(expected), maxmem=2**26,
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


def parseLine(line):
    """
    C{(name, role, encoded)} from one line of the file, None for a blank
    line or a comment.

    @raise ValueError: when the line is malformed.
    """
    line = line.strip()
    if not line or line.startswith("#"):
        return None
    name, _, rest = line.partition(":")
    role, _, encoded = rest.partition(":")
    parts = encoded.split(":")
    if not name or role not in ROLES or len(parts) != 6 or parts[0] != "scrypt":
        raise ValueError("expected name:role:scrypt:... (write it with txlb passwd)")
    if not all(p.isdigit() for p in parts[1:4]):
        raise ValueError("the scrypt parameters must be whole numbers (write it with txlb passwd)")
    return name, role, encoded


def _stampOf(st):
    return (st.st_mtime_ns, st.st_size, st.st_ino, st.st_mode)


class UserFile:
    """
    The password file.

    L{load} reads it strictly (C{txlb passwd} uses it: a malformed line is
    an error). The admin server calls L{users}, which re-reads the file when
    its time stamp, size or inode changed (looked at no more than once per
    L{CHECK_EVERY} seconds of C{clock}, or at once after L{reload}): each
    valid line takes effect, each malformed line is skipped and logged with
    its number, and a user the file no longer names is gone. A file that
    went missing, unreadable or writable by every user leaves no users at
    all until it is fixed.
    """

    log = Logger()

    def __init__(self, path, clock=None):
        self.path = path
        self.clock = clock
        self._stamp = None
        self._users = {}
        self._checked = None

    def _stat(self):
        try:
            return os.stat(self.path)
        except OSError as e:
            raise ConfigError(f"cannot read the {WHAT} {self.path}: {e.strerror}") from None

    def _read(self, strict):
        users, bad = {}, []
        with open(self.path, encoding="utf-8", errors="replace") as f:
            for number, line in enumerate(f, 1):
                try:
                    entry = parseLine(line)
                except ValueError as e:
                    if strict:
                        raise ConfigError(f"{self.path}, line {number}: {e}") from None
                    bad.append((number, str(e)))
                    continue
                if entry is not None:
                    name, role, encoded = entry
                    users[name] = (role, encoded)
        return users, bad

    def load(self):
        """
        Read the whole file now, strictly; return name -> (role, encoded).

        @raise ConfigError: when it cannot be read or a line is malformed.
        """
        st = self._stat()
        try:
            users, _ = self._read(strict=True)
        except OSError as e:
            raise ConfigError(f"cannot read the {WHAT} {self.path}: {e.strerror}") from None
        self._users, self._stamp = users, _stampOf(st)
        return users

    def start(self):
        """
        The server's first reading: refuse a file that cannot be read or
        that every user may write; warn about one every user may read; skip
        and log malformed lines.

        @raise ConfigError: naming the problem.
        """
        st = self._stat()
        warning = secretFileProblem(self.path, WHAT, st.st_mode)
        if warning:
            self.log.warn("{warning}", warning=warning)
        self._refresh(force=True)

    def reload(self):
        """
        Re-read the file now if it changed (what C{SIGHUP} and the admin's
        check every second do).
        """
        self._refresh(force=True)

    def users(self):
        """
        The users now: name -> (role, encoded hash).
        """
        self._refresh(force=False)
        return self._users

    def role(self, name):
        """
        The role of user C{name}, or None for no such user.
        """
        entry = self.users().get(name)
        return entry[0] if entry else None

    def _refresh(self, force):
        if self.clock is not None and not force:
            now = self.clock.seconds()
            if self._checked is not None and now - self._checked < CHECK_EVERY:
                return
            self._checked = now
        try:
            st = self._stat()
            stamp = _stampOf(st)
            if stamp == self._stamp:
                return
            secretFileProblem(self.path, WHAT, st.st_mode)
            users, bad = self._read(strict=False)
        except (ConfigError, OSError) as e:
            if self._stamp != "failed":
                why = e.strerror if isinstance(e, OSError) else str(e)
                self.log.error("{why}; no admin user may log in until it is fixed", why=why)
            self._users, self._stamp = {}, "failed"
            return
        for number, why in bad:
            self.log.warn("{path}, line {number} skipped: {why}", path=self.path, number=number, why=why)
        if self._stamp is not None:
            self.log.info(
                "{path} re-read: {count} users{skipped}",
                path=self.path, count=len(users),
                skipped=f", {len(bad)} bad lines skipped" if bad else "",
            )
        self._users, self._stamp = users, stamp

    def save(self, users):
        """
        Write C{users} (name -> (role, encoded)) atomically, readable by the
        owner only.
        """
        temporary = self.path + ".new"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write("# txlb admin users: name:role:scrypt hash (edit with txlb passwd)\n")
            for name, (role, encoded) in sorted(users.items()):
                f.write(f"{name}:{role}:{encoded}\n")
        os.replace(temporary, self.path)
        self.load()


@implementer(IRealm)
class AdminRealm:
    """
    Gives each user the admin's resource tree for their role.
    """

    def __init__(self, makeRoot, userFile):
        self.makeRoot = makeRoot
        self.userFile = userFile

    def requestAvatar(self, avatarId, mind, *interfaces):
        if IResource not in interfaces:
            raise ValueError("the admin only serves web resources")
        readOnly = self.userFile.role(avatarId) != "admin"
        return IResource, self.makeRoot(avatarId, readOnly), lambda: None
