"""
The new process's side of a handover, before its reactor runs: connect to
the running txlb's handover socket, receive its listening sockets
(C{SCM_RIGHTS}) and its admin journal, and later say C{taken} and wait for
C{released}.

This side is a plain blocking socket with a timeout, not a Twisted
protocol: it runs while twistd starts the service tree
(C{privilegedStartService}), before the reactor does, so that the adopted
sockets are there when the listeners start.

The conversation, one JSON line each way after the descriptors::

    old -> new   descriptors, then {"pid": ..., "sockets": [[kind, name,
                 description, family], ...], "config": {...} or null,
                 "journal": [[method, args], ...]}
    new -> old   "taken"        (the new process accepts on every socket)
    old -> new   "released"     (the old one stopped accepting and serving
                                 the handover socket; it drains and exits)
"""

import array
import json
import os
import socket
import stat

from txlb.errors import ConfigError

#: Seconds the running txlb has to answer each step of a handover.
HANDOVER_TIMEOUT = 30.0
_MOST_DESCRIPTORS = 1024
_LONGEST_LINE = 16 * 2**20


class HandoverError(ConfigError):
    """
    A handover could not happen (one sentence).
    """


class Offer:
    """
    What a running txlb handed over: its sockets by
    C{(kind, name, description)}, its admin journal, and the open channel
    to it.

    @ivar sockets: C{{(kind, name, description): (fd, family)}}, each
        descriptor owned by this object until L{close}.
    @ivar config: the running description (C{getConfig}'s plain form),
        or None when the running txlb has none.
    @ivar journal: the admin changes, as C{[(method, args), ...]} (used
        when there is no C{config}).
    @ivar pid: the running txlb's process id.
    """

    def __init__(self, channel, sockets, journal, pid, config=None):
        self.channel = channel
        self.sockets = sockets
        self.journal = journal
        self.pid = pid
        self.config = config

    def take(self, key):
        """
        C{(fd, family)} handed over for C{key}, or None.
        """
        return self.sockets.get(key)

    def taken(self, timeout=HANDOVER_TIMEOUT):
        """
        Tell the running txlb that this process accepts on its sockets now,
        and wait until it has stopped accepting and serving the handover
        socket.

        @raise HandoverError: when it does not answer C{released} in time.
        """
        self.channel.settimeout(timeout)
        try:
            self.channel.sendall(b"taken\n")
            answer = _readLine(self.channel, [])
        except OSError as e:
            raise HandoverError(f"the running txlb (pid {self.pid}) did not release its sockets: {e}") from None
        if answer != b"released":
            raise HandoverError(f"the running txlb (pid {self.pid}) answered {answer!r} instead of released")

    def close(self):
        """
        Close every received descriptor (the adopted ports hold copies) and
        the channel.
        """
        for fd, _ in self.sockets.values():
            try:
                os.close(fd)
            except OSError:
                pass
        self.sockets = {}
        self.channel.close()


def _readLine(channel, descriptors):
    data = b""
    while not data.endswith(b"\n"):
        message, ancillary, flags, _ = channel.recvmsg(
            65536, socket.CMSG_SPACE(_MOST_DESCRIPTORS * 4), socket.MSG_CMSG_CLOEXEC
        )
        for level, kind, payload in ancillary:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds = array.array("i")
                fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
                descriptors.extend(fds)
        if not message:
            raise OSError("the connection closed")
        data += message
        if len(data) > _LONGEST_LINE:
            raise OSError("the message is too long")
    return data[:-1]


def receive(path, timeout=HANDOVER_TIMEOUT):
    """
    Ask the txlb answering at the UNIX socket C{path} for its sockets.

    @return: an L{Offer}, or None when nothing answers at C{path} (no file,
        or a stale one).
    @raise HandoverError: when something answers but the handover fails.
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return None
    except OSError as e:
        raise HandoverError(f"cannot reach the handover socket {path}: {e.strerror or e}") from None
    if not stat.S_ISSOCK(mode):
        raise HandoverError(f"the handover path {path} exists and is not a socket; give another path")
    channel = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    channel.settimeout(timeout)
    try:
        channel.connect(path)
    except (FileNotFoundError, ConnectionRefusedError):
        channel.close()
        return None
    except OSError as e:
        channel.close()
        raise HandoverError(f"cannot reach the handover socket {path}: {e.strerror or e}") from None
    descriptors = []
    try:
        line = _readLine(channel, descriptors)
        message = json.loads(line)
        entries = message["sockets"]
        if len(entries) != len(descriptors):
            raise ValueError(f"{len(descriptors)} descriptors for {len(entries)} sockets")
        sockets = {
            (str(kind), str(name), str(description)): (fd, int(family))
            for (kind, name, description, family), fd in zip(entries, descriptors)
        }
        journal = [(str(method), list(args)) for method, args in message.get("journal", [])]
        pid = int(message["pid"])
        config = message.get("config")
        if config is not None and not isinstance(config, dict):
            raise ValueError("the configuration is not a struct")
    except (OSError, ValueError, KeyError, TypeError) as e:
        for fd in descriptors:
            os.close(fd)
        channel.close()
        raise HandoverError(f"the handover from {path} failed: {e}") from None
    return Offer(channel, sockets, journal, pid, config)
