"""
Secret files (the admin's users, the heartbeat key) checked the way ssh
checks a private key: readable by every user is worth a warning, writable
by every user is refused.
"""

import os
import stat

from txlb.errors import ConfigError


def secretFileProblem(path, what, mode=None):
    """
    Look at the permissions of the secret file C{path} (C{what} names it in
    sentences, e.g. C{"admin users file"}).

    @param mode: the file's mode, or None to C{stat} it.
    @return: None when only its owner and group may read it, else the
        warning to log (one sentence) when every user may read it.
    @raise ConfigError: when every user may write it (anyone could add a
        user or forge heartbeats), saying how to fix it.
    """
    if mode is None:
        try:
            mode = os.stat(path).st_mode
        except OSError:
            return None
    permissions = stat.S_IMODE(mode)
    if permissions & stat.S_IWOTH:
        raise ConfigError(
            f"the {what} {path} is writable by every user (mode {permissions:04o}), "
            f"so anyone could change it; txlb refuses it until you run chmod 600 {path}"
        )
    if permissions & stat.S_IROTH:
        return (
            f"the {what} {path} is readable by every user (mode {permissions:04o}); "
            f"run chmod 600 {path} so that only its owner can read it"
        )
    return None
