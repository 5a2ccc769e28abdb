"""
The admin users file as the server reads it: re-read when it changes (at
most once a second) or on demand (SIGHUP), each valid line taking effect,
each bad line skipped and logged with its number, a removed user gone
whatever else the file holds, and unsafe permissions warned about or
refused.
"""

import os

from twisted.internet.task import Clock
from twisted.logger import globalLogPublisher
from twisted.trial.unittest import SynchronousTestCase

from tests.support import temporaryFile
from txlb.admin._users import UserFile, hashPassword
from txlb.errors import ConfigError

ALICE = "alice:admin:" + hashPassword("a")
BOB = "bob:readonly:" + hashPassword("b")


class UserFileTests(SynchronousTestCase):
    def setUp(self):
        self.clock = Clock()
        self.events = []
        globalLogPublisher.addObserver(self.events.append)
        self.addCleanup(globalLogPublisher.removeObserver, self.events.append)
        self.path = temporaryFile(self, f"{ALICE}\n{BOB}\n", suffix=".users")
        os.chmod(self.path, 0o600)
        self.users = UserFile(self.path, self.clock)
        self.users.start()

    def rewrite(self, text):
        stamp = os.stat(self.path).st_mtime_ns
        with open(self.path, "w") as f:
            f.write(text)
        os.utime(self.path, ns=(stamp + 10**9, stamp + 10**9))

    def messages(self, key):
        return [e for e in self.events if key in e]

    def test_removedUserWithBadLine(self):
        """
        A user removed while a malformed line is added loses access at the
        next look; the valid lines take effect and the bad one is logged
        with its line number.
        """
        self.assertEqual(set(self.users.users()), {"alice", "bob"})
        self.rewrite(f"# comment\n{ALICE}\nthis is not a user\n")
        self.clock.advance(1.0)
        self.assertEqual(set(self.users.users()), {"alice"})
        self.assertEqual([e["number"] for e in self.messages("number")], [3])

    def test_checkedOncePerSecond(self):
        """
        The file is looked at no more than once a second; reload() looks at
        once (what SIGHUP calls).
        """
        self.users.users()
        self.rewrite(f"{BOB}\n")
        self.assertEqual(set(self.users.users()), {"alice", "bob"})
        self.users.reload()
        self.assertEqual(set(self.users.users()), {"bob"})

    def test_missingFileLocksOut(self):
        """
        A users file that went missing leaves no user, logged once; it comes
        back when the file does.
        """
        os.rename(self.path, self.path + ".away")
        self.clock.advance(1.0)
        self.assertEqual(self.users.users(), {})
        self.clock.advance(1.0)
        self.users.users()
        self.assertEqual(len(self.messages("why")), 1)
        os.rename(self.path + ".away", self.path)
        self.clock.advance(1.0)
        self.assertEqual(set(self.users.users()), {"alice", "bob"})

    def test_worldWritable(self):
        """
        A file every user may write is refused at start with one sentence,
        and leaves no user if it becomes so later.
        """
        os.chmod(self.path, 0o666)
        e = self.assertRaises(ConfigError, UserFile(self.path, self.clock).start)
        self.assertIn("writable by every user", str(e))
        self.assertIn(f"chmod 600 {self.path}", str(e))
        self.users.reload()
        self.assertEqual(self.users.users(), {})

    def test_worldReadable(self):
        """
        A file every user may read is accepted with a warning, as ssh does.
        """
        os.chmod(self.path, 0o644)
        UserFile(self.path, self.clock).start()
        [warning] = self.messages("warning")
        self.assertIn("readable by every user (mode 0644)", warning["warning"])

    def test_strictLoad(self):
        """
        load() (what txlb passwd uses) still refuses a malformed line, so
        that rewriting the file never drops it silently.
        """
        self.rewrite(f"{ALICE}\nnope\n")
        e = self.assertRaises(ConfigError, self.users.load)
        self.assertIn("line 2", str(e))
