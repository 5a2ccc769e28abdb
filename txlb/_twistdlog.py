"""
txlb's own log under C{twistd txlb}: the observer twistd logs to, given to
twistd as its C{--logger} by the C{twistd txlb} options (L{useFor}).

It writes where twistd would (C{--logfile}, standard output with C{-n}
and no file, C{twistd.log} otherwise), as text or, with C{--log-format
json}, one JSON object a line (Twisted's C{jsonFileLogObserver}, with no
record separator). A file is opened with C{O_APPEND} (L{txlb._logfiles})
and reopened at its path on C{SIGUSR1}; txlb does not rotate it itself
(twistd's own log file renames itself at 1 MB): logrotate does.

twistd asks for the observer through a dotted name and calls it with no
argument, so what the options said is kept here, once per process.
"""

import signal
import sys

from twisted.logger import Logger, jsonFileLogObserver, textFileLogObserver

from txlb._logfiles import AppendFile
from txlb._signals import onSignal
from txlb.errors import ConfigError

#: The formats of txlb's own log.
LOG_FORMATS = ("text", "json")

#: What the options asked for: C{(logfile, nodaemon, format)}.
_wanted = {}

log = Logger()


def useFor(twistdOptions, logFormat):
    """
    Make twistd log through L{observer}, unless it logs to syslog or
    through a C{--logger} of the user's own (then C{--log-format json}
    is refused with a sentence).

    @param twistdOptions: twistd's own options (the parent of C{twistd
        txlb}'s), or None when there are none (C{txlb check}, tests).
    @raise ConfigError: for an unknown format, or json with syslog or
        another logger.
    """
    if logFormat not in LOG_FORMATS:
        raise ConfigError(f"--log-format is text or json, not {logFormat!r}")
    if twistdOptions is None or "logger" not in twistdOptions:
        return False
    if twistdOptions.get("syslog") or twistdOptions.get("logger") is not None:
        if logFormat == "json":
            raise ConfigError("--log-format json writes the log itself; drop twistd's --syslog or --logger")
        return False
    _wanted.update(
        logfile=twistdOptions.get("logfile"),
        nodaemon=bool(twistdOptions.get("nodaemon")),
        format=logFormat,
    )
    twistdOptions["logger"] = __name__ + ".observer"
    return True


def observer():
    """
    The log observer twistd calls for (C{--logger}); see the module's
    docstring.
    """
    path = _wanted.get("logfile")
    nodaemon = _wanted.get("nodaemon", False)
    if path == "-" and not nodaemon:
        sys.exit("Daemons cannot log to stdout, exiting!")
    if path == "-" or (nodaemon and not path):
        out = sys.stdout
    else:
        out = AppendFile(path or "twistd.log")
        # twistd calls this with no argument, its reactor installed.
        from twisted.internet import reactor

        onSignal(signal.SIGUSR1, reactor, lambda: _reopen(out))
    if _wanted.get("format") == "json":
        return jsonFileLogObserver(out, recordSeparator="")
    return textFileLogObserver(out)


def _reopen(out):
    try:
        out.reopen()
    except OSError as e:
        log.error("cannot reopen the log file {path}: {error}", path=out.path, error=e.strerror or e)
        return
    log.info("reopened the log file {path}", path=out.path)


__all__ = ["LOG_FORMATS", "observer", "useFor"]
