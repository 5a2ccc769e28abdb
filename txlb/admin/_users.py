"""
Admin users: a password file kept apart from the configuration, holding
salted scrypt hashes and a role per user, and the C{twisted.cred} checker
and realm over it.

A line of the file: C{name:role:scrypt:N:r:p:salt:hash} (salt and hash in
base64). Roles: C{admin} (everything) and C{readonly} (information, the
status page and the metrics).
"""

import base64
import hashlib
import hmac
import os

from twisted.cred.checkers import ICredentialsChecker
from twisted.cred.credentials import IUsernamePassword
from twisted.cred.error import UnauthorizedLogin
from twisted.cred.portal import IRealm
from twisted.internet.threads import deferToThread
from twisted.web.resource import IResource
from zope.interface import implementer

from txlb.errors import ConfigError

ROLES = ("admin", "readonly")
_N, _R, _P = 2**14, 8, 1


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


class UserFile:
    """
    The password file, re-read when it changes on disk.
    """

    def __init__(self, path):
        self.path = path
        self._stamp = None
        self._users = {}
        self.load()

    def load(self):
        """
        (Re-)read the file if it changed.

        @raise ConfigError: when it cannot be read or a line is malformed.
        """
        try:
            st = os.stat(self.path)
        except OSError as e:
            raise ConfigError(f"cannot read the admin users file {self.path}: {e.strerror}") from None
        stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        if stamp == self._stamp:
            return self._users
        users = {}
        with open(self.path, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                name, _, rest = line.partition(":")
                role, _, encoded = rest.partition(":")
                if not name or role not in ROLES or not encoded.startswith("scrypt:"):
                    raise ConfigError(
                        f"{self.path}, line {number}: expected name:role:scrypt:... "
                        "(write it with txlb passwd)"
                    )
                users[name] = (role, encoded)
        self._users, self._stamp = users, stamp
        return users

    def users(self):
        try:
            return self.load()
        except ConfigError:
            return self._users

    def role(self, name):
        entry = self.users().get(name)
        return entry[0] if entry else None

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
        self._stamp = None
        self.load()


@implementer(ICredentialsChecker)
class UserFileChecker:
    """
    Checks HTTP Basic credentials against a L{UserFile}, hashing in a
    thread so that the balancer keeps relaying meanwhile. A password once
    verified is remembered only as a keyed hash, to spare scrypt on every
    request.
    """

    credentialInterfaces = (IUsernamePassword,)

    def __init__(self, userFile):
        self.userFile = userFile
        self._key = os.urandom(32)
        self._verified = {}

    def requestAvatarId(self, credentials):
        name = credentials.username.decode("utf-8", "replace")
        password = credentials.password.decode("utf-8", "replace")
        entry = self.userFile.users().get(name)
        if entry is None or len(password) > 1024:
            return _refuse()
        role, encoded = entry
        token = hmac.new(self._key, (encoded + "\0" + password).encode("utf-8"), "sha256").digest()
        if self._verified.get(name) == token:
            from twisted.internet.defer import succeed

            return succeed(name)

        def verified(ok):
            if not ok:
                raise UnauthorizedLogin("bad credentials")
            self._verified[name] = token
            return name

        return deferToThread(verifyPassword, password, encoded).addCallback(verified)


def _refuse():
    from twisted.internet.defer import fail

    return fail(UnauthorizedLogin("bad credentials"))


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
