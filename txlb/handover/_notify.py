"""
systemd's readiness protocol (C{sd_notify}): a datagram to the socket
named by C{NOTIFY_SOCKET}, when systemd runs txlb as a C{Type=notify}
unit. Written here because it is one datagram, not worth a dependency.
"""

import os
import socket


def notify(environ=os.environ, **fields):
    """
    Send C{KEY=value} lines to systemd; nothing when not run by systemd.
    Returns True when sent.
    """
    address = environ.get("NOTIFY_SOCKET")
    if not address or address[0] not in "/@":
        return False
    if address[0] == "@":
        address = "\0" + address[1:]
    message = "\n".join(f"{key}={value}" for key, value in fields.items()).encode("utf-8")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        try:
            sock.sendto(message, address)
        except OSError:
            return False
    return True
