"""
C{--state FILE} (or C{Balancer(state=FILE)}): the running description,
kept in a file so that changes made through the admin survive a restart.

The file holds the description as JSON plain data (L{txlb.plain}); it is
written after every change to a temporary file beside it, flushed to disk,
then renamed over the old one, so a crash leaves the old file or the new
one, never half of one. No Twisted here.
"""

import json
import os
import tempfile

from txlb.config import Balancer
from txlb.errors import ConfigError
from txlb.plain import fromPlain, toPlain

#: The first key of a state file, saying what it is.
FORMAT = "txlb-state-1"


class StateFile:
    """
    The file at C{path} holding a balancer's running description.
    """

    def __init__(self, path):
        self.path = path

    def read(self):
        """
        The description stored in the file, or None when there is no file.

        @raise ConfigError: when the file cannot be read or holds no
            description (one sentence naming the file).
        """
        try:
            with open(self.path, encoding="utf-8") as f:
                text = f.read()
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as e:
            raise ConfigError(f"cannot read the state file {self.path}: {getattr(e, 'strerror', None) or e}") from None
        try:
            data = json.loads(text)
        except ValueError as e:
            raise ConfigError(f"the state file {self.path} is not JSON ({e}); move it away to start from the configuration") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ConfigError(f"{self.path} is not a txlb state file (no \"format\": \"{FORMAT}\")")
        try:
            return fromPlain(Balancer, data.get("balancer"), "its balancer")
        except ConfigError as e:
            raise ConfigError(
                f"the state file {self.path} cannot be used: {e}; move it away to start from the configuration"
            ) from None

    def write(self, balancer):
        """
        Store C{balancer} (a L{txlb.config.Balancer}) atomically.

        @raise OSError: when the file cannot be written.
        """
        text = json.dumps({"format": FORMAT, "balancer": toPlain(balancer)}, indent=1, sort_keys=True)
        directory = os.path.dirname(os.path.abspath(self.path))
        fd, temporary = tempfile.mkstemp(prefix=".txlb-state-", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text + "\n")
                f.flush()
                os.fsync(f.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            try:
                os.unlink(temporary)
            except OSError:
                pass
            raise
        try:
            dirfd = os.open(directory, os.O_RDONLY)
        except OSError:
            return
        try:
            os.fsync(dirfd)
        except OSError:
            pass
        finally:
            os.close(dirfd)
