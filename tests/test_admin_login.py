"""
Logging in to the admin: the same work for unknown users as for known
ones, a bound on concurrent scrypt runs, a short-lived keyed cache of
verified credentials, and the back-off of sources that keep failing.
"""

import base64

from twisted.cred.credentials import UsernamePassword
from twisted.cred.error import UnauthorizedLogin
from twisted.internet import defer
from twisted.internet.task import Clock
from twisted.logger import globalLogPublisher
from twisted.trial.unittest import SynchronousTestCase
from zope.interface.verify import verifyObject

from twisted.cred.checkers import ICredentialsChecker

from txlb.admin._login import NOBODY, AdminLogin, PasswordChecker, Refused, SourceBackoff, basicCredentials
from txlb.admin._users import AdminRealm, hashPassword, verifyPassword

ALICE = hashPassword("right")


class _Users:
    def __init__(self, users):
        self.table = users

    def users(self):
        return self.table

    def role(self, name):
        entry = self.table.get(name)
        return entry[0] if entry else None


class _Runner:
    """
    Runs password checks when told to, recording what was checked.
    """

    def __init__(self, hold=False):
        self.hold = hold
        self.checked = []
        self.pending = []

    def __call__(self, f, *args):
        self.checked.append(args[1])
        if self.hold:
            d = defer.Deferred()
            self.pending.append((d, f, args))
            return d
        return defer.succeed(f(*args))

    def finishOne(self):
        d, f, args = self.pending.pop(0)
        d.callback(f(*args))


class CheckerTests(SynchronousTestCase):
    def setUp(self):
        self.clock = Clock()
        self.users = _Users({"alice": ("admin", ALICE)})
        self.runner = _Runner()
        self.checker = PasswordChecker(self.users, self.clock, run=self.runner)

    def check(self, name, password):
        return self.checker.requestAvatarId(UsernamePassword(name.encode(), password.encode()))

    def test_interface(self):
        """
        The checker is a twisted.cred checker of user names and passwords.
        """
        verifyObject(ICredentialsChecker, self.checker)

    def test_unknownUserSameWork(self):
        """
        An unknown user's password is checked with scrypt against a fixed
        hash, as a known user's wrong one is; both are refused alike.
        """
        self.failureResultOf(self.check("mallory", "guess"), UnauthorizedLogin)
        self.failureResultOf(self.check("alice", "guess"), UnauthorizedLogin)
        self.assertEqual(self.runner.checked, [NOBODY, ALICE])
        self.assertFalse(verifyPassword("", NOBODY))
        self.assertEqual(self.successResultOf(self.check("alice", "right")), "alice")

    def test_concurrency(self):
        """
        No more than two scrypt runs go at once; the others wait their turn.
        """
        self.runner.hold = True
        results = [self.check("alice", f"guess{i}") for i in range(5)]
        self.assertEqual(len(self.runner.pending), 2)
        self.runner.finishOne()
        self.assertEqual(len(self.runner.pending), 2)
        while self.runner.pending:
            self.runner.finishOne()
        for d in results:
            self.failureResultOf(d, UnauthorizedLogin)

    def test_remembered(self):
        """
        A verified password is remembered for `remember` seconds under a
        keyed digest (never the password): calls meanwhile run no scrypt.
        """
        self.successResultOf(self.check("alice", "right"))
        self.successResultOf(self.check("alice", "right"))
        self.assertEqual(len(self.runner.checked), 1)
        for token in self.checker._verified:
            self.assertNotIn(b"right", token)
            self.assertEqual(len(token), 32)
        self.clock.advance(61)
        self.successResultOf(self.check("alice", "right"))
        self.assertEqual(len(self.runner.checked), 2)

    def test_removedUserForgotten(self):
        """
        A remembered credential gives nothing once its user is gone from the
        file, or its password changed.
        """
        self.successResultOf(self.check("alice", "right"))
        self.users.table = {"alice": ("admin", hashPassword("new"))}
        self.failureResultOf(self.check("alice", "right"), UnauthorizedLogin)
        self.users.table = {}
        self.failureResultOf(self.check("alice", "right"), UnauthorizedLogin)


class BackoffTests(SynchronousTestCase):
    def setUp(self):
        self.clock = Clock()
        self.backoff = SourceBackoff(self.clock)

    def test_growing(self):
        """
        Three failures cost nothing; then the delay doubles from a quarter
        second up to four; at ten the source is refused for a minute.
        """
        delays = [self.backoff.failed("192.0.2.1") for _ in range(9)]
        self.assertEqual(delays, [0, 0, 0, 0.25, 0.5, 1.0, 2.0, 4.0, 4.0])
        self.assertEqual(self.backoff.lockedFor("192.0.2.1"), 0)
        self.backoff.failed("192.0.2.1")
        self.assertEqual(self.backoff.lockedFor("192.0.2.1"), 60.0)
        self.assertEqual(self.backoff.lockedFor("192.0.2.2"), 0)
        self.clock.advance(60.0)
        self.assertEqual(self.backoff.lockedFor("192.0.2.1"), 0)

    def test_success(self):
        """
        A source that logs in starts afresh; so does one quiet for ten
        minutes.
        """
        for _ in range(5):
            self.backoff.failed("a")
            self.backoff.failed("b")
        self.backoff.succeeded("a")
        self.assertEqual(self.backoff.failed("a"), 0)
        self.clock.advance(601)
        self.assertEqual(self.backoff.failed("b"), 0)

    def test_loggedOnce(self):
        """
        A source is logged once, when it starts being slowed.
        """
        events = []
        globalLogPublisher.addObserver(events.append)
        self.addCleanup(globalLogPublisher.removeObserver, events.append)
        for _ in range(12):
            self.backoff.failed("192.0.2.9")
        self.assertEqual([e["source"] for e in events if e.get("source")], ["192.0.2.9"])

    def test_bounded(self):
        """
        At most `sources` addresses are remembered, the oldest forgotten.
        """
        backoff = SourceBackoff(self.clock, sources=10)
        for i in range(100):
            backoff.failed(f"10.0.0.{i}")
        self.assertEqual(len(backoff._table), 10)
        self.assertIn("10.0.0.99", backoff._table)


class LoginTests(SynchronousTestCase):
    def setUp(self):
        self.clock = Clock()
        self.users = _Users({"alice": ("readonly", ALICE)})
        self.runner = _Runner()
        self.login = AdminLogin(
            PasswordChecker(self.users, self.clock, run=self.runner),
            AdminRealm(lambda user, readOnly: (user, readOnly), self.users),
            SourceBackoff(self.clock),
            self.clock,
        )

    def header(self, name, password):
        return b"Basic " + base64.b64encode(f"{name}:{password}".encode())

    def test_loggedIn(self):
        """
        Good credentials give the user's tree for their role.
        """
        self.assertEqual(self.successResultOf(self.login.login("s", self.header("alice", "right"))),
                         ("alice", True))

    def test_noCredentials(self):
        """
        A request without (or with malformed) credentials is answered 401
        with the challenge, and checks no password.
        """
        for header in (None, b"Bearer x", b"Basic !!!", b"Basic " + base64.b64encode(b"nocolon")):
            refusal = self.failureResultOf(self.login.login("s", header), Refused).value
            self.assertEqual(refusal.status, 401)
            self.assertIn(b"WWW-Authenticate", dict(refusal.headers))
        self.assertEqual(self.runner.checked, [])

    def test_guessingSlowed(self):
        """
        After three wrong guesses the answers come later and later; after
        ten, the source is answered 429 (with Retry-After) without any
        password being checked, even the right one.
        """
        for _ in range(3):
            self.failureResultOf(self.login.login("s", self.header("alice", "x")), Refused)
        d = self.login.login("s", self.header("alice", "x"))
        self.assertNoResult(d)
        self.clock.advance(0.25)
        self.assertEqual(self.failureResultOf(d, Refused).value.status, 401)
        for _ in range(6):
            d = self.login.login("s", self.header("nobody", "x"))
            self.clock.advance(4.0)
            self.failureResultOf(d, Refused)
        checked = len(self.runner.checked)
        refusal = self.failureResultOf(self.login.login("s", self.header("alice", "right")), Refused).value
        self.assertEqual(refusal.status, 429)
        self.assertTrue(0 < int(dict(refusal.headers)[b"Retry-After"]) <= 60)
        self.assertEqual(len(self.runner.checked), checked)
        self.assertEqual(self.successResultOf(self.login.login("other", self.header("alice", "right"))),
                         ("alice", True))

    def test_basicCredentials(self):
        """
        The Basic header is read into a name and a password (which may hold
        colons).
        """
        credentials = basicCredentials(b"basic " + base64.b64encode(b"a:b:c"))
        self.assertEqual((credentials.username, credentials.password), (b"a", b"b:c"))
