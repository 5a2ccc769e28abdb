"""
Log files an operator rotates: opened with C{O_APPEND} at a fixed path,
reopened on demand (C{SIGUSR1}, after logrotate renamed the file), and a
buffer that gathers whole lines and writes them out with one C{write(2)} on
a timer, so that writing never costs the reactor a system call per line.

What this relies on: a C{write(2)} to a regular file opened with
C{O_APPEND} moves to the end of the file and writes all its bytes there as
one step, so several processes appending to one file (C{--workers N})
never interleave parts of each other's writes, whatever their size; and
since every write holds whole lines, every line lands whole. (A short
write, which happens only on a full disk or a signal, is finished with a
second write; only then could another process's lines come in between.)
After logrotate's C{copytruncate} the next write lands at the new end of
the file, not at the old offset.
"""

import os

from twisted.logger import Logger

#: Flags every log file is opened with.
_FLAGS = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
#: The mode a new log file gets (before the umask).
_MODE = 0o640

#: Seconds a record may wait in the buffer before it is written.
FLUSH_INTERVAL = 1.0
#: Bytes gathered that are written at once, without waiting for the timer.
FLUSH_SIZE = 64 * 1024


class AppendFile:
    """
    A file at C{path}, opened for appending until L{close}; L{reopen}
    opens the path again (a new file once the old one was renamed).

    It is also the file a C{twisted.logger} file observer writes to:
    L{write} takes text, L{flush} does nothing (nothing is held back).

    @ivar path: the absolute path.
    """

    def __init__(self, path):
        """
        @raise OSError: when the file cannot be opened.
        """
        self.path = os.path.abspath(path)
        self.fd = os.open(self.path, _FLAGS, _MODE)

    def write(self, data):
        """
        Append C{data} (bytes, or text written as UTF-8) in one
        C{write(2)} when the kernel takes it all.
        """
        if isinstance(data, str):
            data = data.encode("utf-8", "replace")
        view = memoryview(data)
        while view:
            written = os.write(self.fd, view)
            view = view[written:]

    def flush(self):
        """
        Nothing to do: every L{write} reaches the kernel at once.
        """

    def reopen(self):
        """
        Open C{path} again and write there from now on; the old descriptor
        is closed only once the new one is open.

        @raise OSError: when the path cannot be opened (the old file stays
            in use).
        """
        fd = os.open(self.path, _FLAGS, _MODE)
        old, self.fd = self.fd, fd
        os.close(old)

    def close(self):
        """
        Close the file; later writes fail.
        """
        if self.fd is not None:
            fd, self.fd = self.fd, None
            os.close(fd)


class BufferedLines:
    """
    Lines gathered and written to a file together: when C{size} bytes are
    waiting, when C{interval} seconds passed since the first waiting line,
    and on L{flush}. A failed write is logged (once until a write works
    again) and its lines are dropped, so a full disk never stops the
    relay.

    @ivar file: what is written to (an L{AppendFile}).
    """

    log = Logger()

    def __init__(self, file, clock, interval=FLUSH_INTERVAL, size=FLUSH_SIZE):
        self.file = file
        self.clock = clock
        self.interval = interval
        self.size = size
        self.lines = []
        self.waiting = 0
        self.timer = None
        self.failing = False

    def add(self, line):
        """
        Gather one line (text ending in a newline).
        """
        self.lines.append(line)
        self.waiting += len(line)
        if self.waiting >= self.size:
            self.flush()
        elif self.timer is None:
            self.timer = self.clock.callLater(self.interval, self._due)

    def _due(self):
        self.timer = None
        self.flush()

    def flush(self):
        """
        Write every waiting line now, in one write.
        """
        if self.timer is not None:
            timer, self.timer = self.timer, None
            if timer.active():
                timer.cancel()
        if not self.lines:
            return
        data = "".join(self.lines).encode("utf-8", "replace")
        self.lines = []
        self.waiting = 0
        try:
            self.file.write(data)
        except OSError as e:
            if not self.failing:
                self.log.error(
                    "cannot write to {path}: {error}; records are dropped until it works again",
                    path=self.file.path,
                    error=e.strerror or e,
                )
            self.failing = True
        else:
            if self.failing:
                self.log.info("writing to {path} again", path=self.file.path)
            self.failing = False


__all__ = ["AppendFile", "BufferedLines", "FLUSH_INTERVAL", "FLUSH_SIZE"]
