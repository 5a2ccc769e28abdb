"""
What the admin may use at most, so that no one reaching it (authenticated
or not) can starve the relay: time, connections, descriptors, memory.
"""

import os
import resource

import attr

from txlb.errors import ConfigError

HEADER_TIMEOUT = 10.0
REQUEST_TIMEOUT = 60.0
MAX_CONNECTIONS = 64
DESCRIPTOR_RESERVE = 256
MAX_BODY = 2**20
ACCESS_LOG_RATE = 20


def _positive(what, integer=False, zero=False):
    def check(instance, attribute, value):
        kinds = (int,) if integer else (int, float)
        if isinstance(value, bool) or not isinstance(value, kinds) or value < 0 or (value == 0 and not zero):
            noun = "a whole number" if integer else "a number"
            relation = "at least 0" if zero else "above 0"
            raise ConfigError(f"the admin's {what} must be {noun} {relation}, not {value!r}")

    return check


@attr.s(frozen=True)
class AdminLimits:
    """
    The admin's limits.

    @ivar headerTimeout: seconds from a connection's start (or the end of
        its previous request) to the end of a request's headers.
    @ivar requestTimeout: seconds from the same start to the last byte of
        the answer.
    @ivar maxConnections: admin connections open at once; beyond it a new
        one replaces the oldest that has not sent its request yet, or is
        closed as soon as it is accepted when all are busy.
    @ivar descriptorReserve: descriptors (of the process's limit) the admin
        leaves to the relay: no admin connection is kept while fewer are
        free.
    @ivar maxBody: bytes a request body may have; more is answered 413
        before the body is read.
    @ivar accessLog: log one line per admin request (at most
        C{accessLogRate} lines a second).
    """

    headerTimeout = attr.ib(default=HEADER_TIMEOUT, validator=_positive("header timeout"))
    requestTimeout = attr.ib(default=REQUEST_TIMEOUT, validator=_positive("request timeout"))
    maxConnections = attr.ib(default=MAX_CONNECTIONS, validator=_positive("connection limit", True))
    descriptorReserve = attr.ib(default=DESCRIPTOR_RESERVE, validator=_positive("descriptor reserve", True, True))
    maxBody = attr.ib(default=MAX_BODY, validator=_positive("body limit", True))
    accessLog = attr.ib(default=False)
    accessLogRate = attr.ib(default=ACCESS_LOG_RATE, validator=_positive("access log rate", True))


def limitsOf(spec):
    """
    The L{AdminLimits} a L{txlb.config.Admin} asks for.
    """
    return AdminLimits(
        headerTimeout=spec.headerTimeout,
        requestTimeout=spec.requestTimeout,
        maxConnections=spec.maxConnections,
        descriptorReserve=spec.descriptorReserve,
        maxBody=spec.maxBody,
        accessLog=spec.accessLog,
    )


def openDescriptors(directory="/proc/self/fd"):
    """
    How many file descriptors this process has open, or None where the
    system does not say.
    """
    try:
        size = os.stat(directory).st_size
        # Linux 6.2 and later give the count as the size; older ones 0.
        return size if size > 0 else len(os.listdir(directory)) - 1
    except OSError:
        return None


def freeDescriptors(count=openDescriptors, getrlimit=resource.getrlimit):
    """
    How many more descriptors this process may open before its soft limit,
    or None when that is not known (no limit, or no count).
    """
    soft, _ = getrlimit(resource.RLIMIT_NOFILE)
    used = count()
    if soft == resource.RLIM_INFINITY or used is None:
        return None
    return soft - used
