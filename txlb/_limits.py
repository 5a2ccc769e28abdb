"""
Raising the soft limit on open file descriptors to the hard one at start,
so that a balancer is not capped at the distribution's default of 1024
while the administrator allows more.
"""

import resource

# Linux refuses a soft limit above fs.nr_open even when the hard limit is
# unlimited; this is its default.
_NR_OPEN_DEFAULT = 1048576


def _ceiling(hard, nrOpenPath="/proc/sys/fs/nr_open"):
    if hard != resource.RLIM_INFINITY:
        return hard
    try:
        with open(nrOpenPath) as f:
            return int(f.read())
    except (OSError, ValueError):
        return _NR_OPEN_DEFAULT


def raiseFileLimit(getrlimit=resource.getrlimit, setrlimit=resource.setrlimit):
    """
    Raise the soft C{RLIMIT_NOFILE} up to the hard limit; never touch the
    hard limit.

    @return: C{(before, after, error)}: the soft limit before and after,
        and the reason (a phrase) when raising it failed, else None.
    """
    soft, hard = getrlimit(resource.RLIMIT_NOFILE)
    target = _ceiling(hard)
    if soft == resource.RLIM_INFINITY or soft >= target:
        return soft, soft, None
    try:
        setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (OSError, ValueError) as e:
        return soft, soft, str(e)
    return soft, target, None
