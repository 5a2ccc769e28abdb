"""
Unit tests for the log files an operator rotates: appending, reopening
after a rename, writes after a truncate, and lines gathered and written
on a fake clock.
"""

import os
import shutil
import tempfile

from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from txlb._logfiles import AppendFile, BufferedLines


class _Writes:
    """
    A file that keeps each write, or fails them with C{error}.
    """

    path = "/var/log/txlb/access.log"

    def __init__(self):
        self.writes = []
        self.error = None

    def write(self, data):
        if self.error is not None:
            raise self.error
        self.writes.append(data)


class AppendFileTests(SynchronousTestCase):
    def setUp(self):
        self.directory = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.directory, True)
        self.path = os.path.join(self.directory, "log")
        self.file = AppendFile(self.path)
        self.addCleanup(self.file.close)

    def read(self, path=None):
        with open(path or self.path, "rb") as f:
            return f.read()

    def test_reopenAfterRename(self):
        """
        After a rename, writes go to the renamed file until L{reopen}, then
        to a new file at the path.
        """
        self.file.write("one\n")
        os.rename(self.path, self.path + ".1")
        self.file.write("two\n")
        self.file.reopen()
        self.file.write("three\n")
        self.assertEqual(self.read(self.path + ".1"), b"one\ntwo\n")
        self.assertEqual(self.read(), b"three\n")

    def test_afterTruncate(self):
        """
        After the file is truncated (logrotate's copytruncate), the next
        write lands at its start, not at the old offset.
        """
        self.file.write(b"x" * 1000)
        os.truncate(self.path, 0)
        self.file.write(b"after\n")
        self.assertEqual(self.read(), b"after\n")

    def test_twoWriters(self):
        """
        Two descriptors on one path (two workers) both append, neither
        overwriting the other.
        """
        other = AppendFile(self.path)
        self.addCleanup(other.close)
        self.file.write("a\n")
        other.write("b\n")
        self.file.write("c\n")
        self.assertEqual(self.read(), b"a\nb\nc\n")

    def test_reopenFailureKeepsOldFile(self):
        """
        When the path cannot be opened again, the old file stays in use.
        """
        os.rename(self.path, self.path + ".1")
        os.mkdir(self.path)
        self.assertRaises(OSError, self.file.reopen)
        self.file.write("still\n")
        self.assertEqual(self.read(self.path + ".1"), b"still\n")


class BufferedLinesTests(SynchronousTestCase):
    def setUp(self):
        self.clock = Clock()
        self.file = _Writes()
        self.lines = BufferedLines(self.file, self.clock, interval=1.0, size=100)

    def test_writtenAfterInterval(self):
        """
        Lines wait until C{interval} seconds after the first, then go out in
        one write.
        """
        self.lines.add("a\n")
        self.clock.advance(0.5)
        self.lines.add("b\n")
        self.clock.advance(0.49)
        self.assertEqual(self.file.writes, [])
        self.clock.advance(0.01)
        self.assertEqual(self.file.writes, [b"a\nb\n"])
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_writtenWhenFull(self):
        """
        Once C{size} bytes wait they are written at once, and the timer is
        cancelled.
        """
        self.lines.add("x" * 60 + "\n")
        self.lines.add("y" * 60 + "\n")
        self.assertEqual(len(self.file.writes), 1)
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_flushNothing(self):
        """
        Flushing with nothing waiting writes nothing.
        """
        self.lines.flush()
        self.assertEqual(self.file.writes, [])

    def test_failureLoggedOnceAndDropped(self):
        """
        A failing write drops its lines and is logged once until a write
        works again.
        """
        self.file.error = OSError(28, "No space left on device")
        self.lines.add("a\n")
        self.lines.flush()
        self.lines.add("b\n")
        self.lines.flush()
        self.assertEqual(len(self.flushLoggedErrors()), 0)
        self.assertTrue(self.lines.failing)
        self.file.error = None
        self.lines.add("c\n")
        self.lines.flush()
        self.assertEqual(self.file.writes, [b"c\n"])
        self.assertFalse(self.lines.failing)
