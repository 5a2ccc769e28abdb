"""
Logging in to the admin with HTTP Basic credentials, made slow to guess:

  - an unknown user costs the same scrypt run as a wrong password (a
    fixed hash stands in), so names do not show in the timing;
  - at most a few scrypt runs at once (each takes 16 MiB for its moment);
  - a source address that keeps failing waits longer and longer for its
    answers, then is answered 429 for a while (see L{SourceBackoff});
  - a verified credential is remembered for a short time under a keyed
    digest (HMAC with a key made at start), never the password itself.
"""

import base64
import binascii
import collections
import hmac
import math
import os

from twisted.cred.checkers import ICredentialsChecker
from twisted.cred.credentials import IUsernamePassword, UsernamePassword
from twisted.cred.error import UnauthorizedLogin
from twisted.internet import defer
from twisted.internet.threads import deferToThreadPool
from twisted.logger import Logger
from twisted.web.resource import IResource
from zope.interface import implementer

from txlb.admin._users import verifyPassword

#: Verifies no password: what an unknown user's password is checked against.
NOBODY = "scrypt:16384:8:1:dHhsYi1ub2JvZHktc2FsdA==:XPax+YtzlEHqFNL+o28hECAfeJF/fzWXr8hFSsgUrUQ="
MAX_PASSWORD = 1024
CONCURRENT_CHECKS = 2
REMEMBER = 60.0
REMEMBERED = 1024


class Refused(Exception):
    """
    A login refused: answer C{status} (401 or 429) with C{headers}.
    """

    CHALLENGE = [(b"WWW-Authenticate", b'Basic realm="txlb admin"')]

    def __init__(self, status, headers, why):
        Exception.__init__(self, why)
        self.status = status
        self.headers = headers


def _threaded(reactor):
    def run(f, *args):
        return deferToThreadPool(reactor, reactor.getThreadPool(), f, *args)

    return run


@implementer(ICredentialsChecker)
class PasswordChecker:
    """
    Checks user names and passwords against a L{txlb.admin._users.UserFile}.

    @param run: C{run(f, *args)} calls C{f} away from the reactor's thread
        and returns a Deferred of its result (the reactor's thread pool).
    """

    credentialInterfaces = (IUsernamePassword,)

    def __init__(self, userFile, clock, run=None, concurrency=CONCURRENT_CHECKS,
                 remember=REMEMBER, key=None):
        self.userFile = userFile
        self.clock = clock
        self.run = run if run is not None else _threaded(clock)
        self.semaphore = defer.DeferredSemaphore(concurrency)
        self.remember = remember
        self._key = key if key is not None else os.urandom(32)
        self._verified = collections.OrderedDict()

    def _token(self, name, encoded, password):
        text = "\0".join((name, encoded, password)).encode("utf-8", "surrogatepass")
        return hmac.new(self._key, text, "sha256").digest()

    def requestAvatarId(self, credentials):
        """
        A Deferred firing with the user's name, or failing with
        L{UnauthorizedLogin} after the same work whether or not the user
        exists.
        """
        name = credentials.username.decode("utf-8", "replace")
        password = credentials.password.decode("utf-8", "replace")
        entry = self.userFile.users().get(name)
        encoded = entry[1] if entry is not None else NOBODY
        if len(password) > MAX_PASSWORD:
            return defer.fail(UnauthorizedLogin("bad credentials"))
        token = self._token(name, encoded, password)
        now = self.clock.seconds()
        expiry = self._verified.get(token)
        if entry is not None and expiry is not None and expiry > now:
            return defer.succeed(name)

        def verified(ok):
            if not ok or entry is None:
                raise UnauthorizedLogin("bad credentials")
            self._verified.pop(token, None)
            self._verified[token] = self.clock.seconds() + self.remember
            while len(self._verified) > REMEMBERED:
                self._verified.popitem(last=False)
            return name

        return self.semaphore.run(self.run, verifyPassword, password, encoded).addCallback(verified)


class _Source:
    __slots__ = ("failures", "last", "lockedUntil", "logged")

    def __init__(self):
        self.failures = 0
        self.last = 0.0
        self.lockedUntil = 0.0
        self.logged = False


class SourceBackoff:
    """
    Failed logins per source address: the first C{free} cost nothing more;
    each one after waits C{base} seconds, doubled per failure up to
    C{longest}; after C{lockAfter} failures the source is answered 429
    for C{lockFor} seconds without any password being checked. A source
    that logs in, or stays quiet for C{forgetAfter} seconds, starts afresh.
    At most C{sources} addresses are remembered (the oldest forgotten
    first); each is logged once when it starts being slowed.
    """

    log = Logger()

    def __init__(self, clock, free=3, base=0.25, longest=4.0, lockAfter=10, lockFor=60.0,
                 forgetAfter=600.0, sources=4096):
        self.clock = clock
        self.free = free
        self.base = base
        self.longest = longest
        self.lockAfter = lockAfter
        self.lockFor = lockFor
        self.forgetAfter = forgetAfter
        self.sources = sources
        self._table = collections.OrderedDict()

    def _get(self, source, now):
        entry = self._table.get(source)
        if entry is not None and now - entry.last > self.forgetAfter and entry.lockedUntil <= now:
            del self._table[source]
            entry = None
        return entry

    def lockedFor(self, source):
        """
        Seconds C{source} must still wait before its logins are checked
        again (0 when they are checked now).
        """
        now = self.clock.seconds()
        entry = self._get(source, now)
        return max(0.0, entry.lockedUntil - now) if entry is not None else 0.0

    def failed(self, source):
        """
        Count a failed login from C{source}; return the seconds to wait
        before answering it.
        """
        now = self.clock.seconds()
        entry = self._get(source, now)
        if entry is None:
            entry = self._table[source] = _Source()
            while len(self._table) > self.sources:
                self._table.popitem(last=False)
        else:
            self._table.move_to_end(source)
        entry.failures += 1
        entry.last = now
        beyond = entry.failures - self.free
        if beyond <= 0:
            return 0.0
        if not entry.logged:
            entry.logged = True
            self.log.warn(
                "admin: {failures} failed logins from {source}: its answers are slowed, and after "
                "{lockAfter} it is refused for {lockFor:g} s",
                failures=entry.failures, source=source, lockAfter=self.lockAfter, lockFor=self.lockFor,
            )
        if entry.failures >= self.lockAfter:
            entry.lockedUntil = now + self.lockFor
        return min(self.longest, self.base * 2 ** (beyond - 1))

    def succeeded(self, source):
        """
        C{source} logged in: forget its failures.
        """
        self._table.pop(source, None)


def basicCredentials(header):
    """
    The L{UsernamePassword} of an HTTP C{Authorization: Basic} header
    value, or None when it is missing or malformed.
    """
    if not header:
        return None
    scheme, _, encoded = header.partition(b" ")
    if scheme.lower() != b"basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    name, colon, password = decoded.partition(b":")
    return UsernamePassword(name, password) if colon else None


class AdminLogin:
    """
    Logs in one request's credentials for the admin's users: the checker
    (L{PasswordChecker}), the realm giving each user their resource tree,
    and the back-off of sources that fail.
    """

    CHALLENGE = Refused.CHALLENGE

    def __init__(self, checker, realm, backoff, clock):
        self.checker = checker
        self.realm = realm
        self.backoff = backoff
        self.clock = clock

    def login(self, source, authorization):
        """
        A Deferred firing with the resource tree of the user whose
        credentials C{authorization} (the header's value, or None) holds,
        or failing with L{Refused}.
        """
        wait = self.backoff.lockedFor(source)
        if wait > 0:
            return defer.fail(Refused(
                429, [(b"Retry-After", str(int(math.ceil(wait))).encode("ascii"))],
                "too many failed logins",
            ))
        credentials = basicCredentials(authorization)
        if credentials is None:
            return defer.fail(Refused(401, self.CHALLENGE, "no credentials"))

        def accepted(name):
            self.backoff.succeeded(source)
            _, root, _ = self.realm.requestAvatar(name, None, IResource)
            return root

        def refused(failure):
            failure.trap(UnauthorizedLogin)
            delay = self.backoff.failed(source)
            answer = Refused(401, self.CHALLENGE, "bad credentials")
            if delay <= 0:
                raise answer
            d = defer.Deferred()
            self.clock.callLater(delay, d.errback, answer)
            return d

        return self.checker.requestAvatarId(credentials).addCallbacks(accepted, refused)
