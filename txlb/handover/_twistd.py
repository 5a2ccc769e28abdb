"""
What C{twistd txlb} does for a handover: add one to a C{.tac}'s balancer
(C{--config FILE.tac --handover PATH}), and hand twistd's pid file to it.
"""

import os

from txlb.balancer import LoadBalancer
from txlb.errors import ConfigError
from txlb.handover._service import Handover


def _walk(service):
    yield service
    for child in getattr(service, "services", ()):
        yield from _walk(child)


def findHandover(service):
    """
    The L{Handover} in the service tree C{service}, or None.
    """
    for child in _walk(service):
        if isinstance(child, Handover):
            return child
    return None


def addHandover(service, builder, path):
    """
    Give the balancer in C{service} (a tree a C{.tac} built with
    C{builder}) a handover at C{path}; nothing in a worker other than
    worker 0.

    @raise ConfigError: when the tree has one already.
    """
    if findHandover(service) is not None:
        raise ConfigError("the .tac file gives Balancer(handover=...) already; drop --handover")
    if builder.role is not None and not builder.role.admin:
        return
    for top in _walk(service):
        if isinstance(top, LoadBalancer):
            Handover(top, builder, path).setServiceParent(top)
            return


def takePidFile(service, twistdOptions):
    """
    With a handover, two processes hold twistd's pid file in turn: the
    handover service writes it once it serves (and removes it only while
    it names its own process), so twistd must not (it would refuse to
    start while the predecessor runs, and the predecessor would remove
    its successor's file on exit).

    @param twistdOptions: twistd's own options (C{pidfile}), or None.
    """
    handover = findHandover(service)
    if handover is None or twistdOptions is None or not twistdOptions.get("pidfile"):
        return
    handover.pidfile = os.path.abspath(twistdOptions["pidfile"])
    twistdOptions["pidfile"] = ""
