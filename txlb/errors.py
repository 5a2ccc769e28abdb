"""
The exceptions txlb raises where a user or a peer can cause them.

Each carries one sentence meant to be shown to a person as it is.
"""


class ConfigError(ValueError):
    """
    A configuration value (a flag, an endpoint, a weight, a .tac) is wrong.

    The message is one sentence naming the problem.
    """


class NoHostAvailable(Exception):
    """
    A scheduler or a pool has no host it may hand out right now.
    """


class UnknownScheduler(ConfigError):
    """
    A scheduler name matched neither a built-in scheduler nor a plugin.
    """


class StartupError(Exception):
    """
    txlb cannot start (a listener cannot bind, say); the reason has been
    logged once already.

    Raised from C{startService} while twistd starts up, so that twistd
    removes its pid file (it does for an C{Exception}, not for
    C{SystemExit}); L{quietExit} keeps Python from printing a traceback for
    it afterwards.
    """


def _quietHook(previous):
    def hook(kind, value, tb):
        if isinstance(value, StartupError):
            return
        previous(kind, value, tb)

    hook.txlbQuiet = True
    return hook


def quietExit(error):
    """
    Make C{error} (a L{StartupError}) end the process with status 1 and no
    traceback when nothing catches it, and return it, to be raised.
    """
    import sys

    if not getattr(sys.excepthook, "txlbQuiet", False):
        sys.excepthook = _quietHook(sys.excepthook)
    return error
