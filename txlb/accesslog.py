"""
The access log: one record per client connection, written when the
connection ends, whether or not it reached a backend (L{AccessLogService}, built
from L{txlb.config.AccessLog}).

A record (L{recordOf}) is a dict with the keys of L{KEYS}, written as one
JSON object a line (L{formatJSON}) or as one line in the spirit of
HAProxy's C{tcplog} (L{formatText})::

    127.0.0.1:50312 [2026-11-30T08:39:05.123Z] 127.0.0.1:8080 web/blue/a 0 0.412/35.1 12/2048 client-closed

Records are gathered and written once a second (L{txlb._logfiles}), so a
record costs the relay no system call; see C{doc/operations.rst}.
"""

import json
import signal
import time

from twisted.application.service import Service
from twisted.logger import Logger

from txlb._logfiles import AppendFile, BufferedLines
from txlb._signals import onSignal
from txlb.address import formatAddress
from txlb.errors import StartupError, quietExit

#: The keys of every record, in the order they are written.
KEYS = (
    "time",
    "client",
    "listener",
    "service",
    "group",
    "host",
    "retries",
    "connect_ms",
    "duration_ms",
    "bytes_in",
    "bytes_out",
    "termination",
)


class _Stamps:
    """
    ISO 8601 UTC times with milliseconds, the date and time part made once
    per second.
    """

    def __init__(self):
        self.second = None
        self.prefix = ""
        self.millisecond = None
        self.stamp = ""

    def __call__(self, when):
        millisecond = int(when * 1000)
        if millisecond == self.millisecond:
            return self.stamp
        second, fraction = divmod(millisecond, 1000)
        if second != self.second:
            self.second = second
            self.prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        self.millisecond = millisecond
        self.stamp = f"{self.prefix}.{fraction:03d}Z"
        return self.stamp


def listenerOf(client):
    """
    The address of the listener that accepted C{client}, or None; looked
    up once per listener (the factory keeps it).
    """
    factory = getattr(client, "factory", None)
    if factory is None:
        return None
    address = getattr(factory, "listenerAddress", None)
    if address is None:
        listener = getattr(factory, "listenerService", None)
        if listener is None:
            return None
        address = factory.listenerAddress = listener.address
    return address


def fieldsOf(client, now, stamp):
    """
    The values of the record of a L{txlb.relay.ClientSide} that ended at
    C{now}: a tuple in the order of L{KEYS}, then the route (None when
    the service does not route, L{txlb.routing}).

    @param stamp: turns a time in seconds since the epoch into ISO 8601.
    """
    tried = client.tried
    host = client.host
    if host is None and tried:
        host = tried[-1]
    connectTime = client.connectTime
    accepted = client.acceptedAt
    if accepted is None:
        accepted = now
    transport = client.transport
    return (
        stamp(accepted),
        formatAddress(transport.getPeer()) if transport is not None else None,
        listenerOf(client),
        client.service.name,
        client.group,
        host.name if host is not None else None,
        len(tried) - 1 if tried else 0,
        None if connectTime is None else round(connectTime * 1000.0, 3),
        round((now - accepted) * 1000.0, 3),
        client.bytesIn,
        client.bytesOut,
        client.termination,
        getattr(client, "route", None) if getattr(client.service, "routing", None) is not None else None,
    )


class _Unrelayed:
    """
    What a record reads of a connection closed before the relay saw it (a
    bad PROXY header): no host, no bytes.
    """

    tried = ()
    host = None
    connectTime = None
    group = None
    bytesIn = 0
    bytesOut = 0
    route = None

    def __init__(self, service, transport, factory, termination, acceptedAt):
        self.service = service
        self.transport = transport
        self.factory = factory
        self.termination = termination
        self.acceptedAt = acceptedAt


def recordOf(client, now, stamp):
    """
    The record of a L{txlb.relay.ClientSide} that ended at C{now}, as a
    dict with the keys of L{KEYS} (and C{route} when the client has one).
    """
    return _record(fieldsOf(client, now, stamp))


def _record(fields):
    record = dict(zip(KEYS, fields))
    if fields[-1] is not None:
        record["route"] = fields[-1]
    return record


def _fields(record):
    return tuple(record[key] for key in KEYS) + (record.get("route"),)


class _Quoted(dict):
    """
    Strings that recur (names, listeners, terminations) as JSON, each
    encoded once; None is C{null}.
    """

    def __missing__(self, value):
        quoted = json.dumps(value)
        if len(self) < 4096:
            self[value] = quoted
        return quoted


_quoted = _Quoted()


def _client(value):
    # A client's "ip:port" changes with every record: not kept.
    if value is None:
        return "null"
    if '"' in value or "\\" in value or not value.isprintable():
        return json.dumps(value)
    return f'"{value}"'


def _json(fields):
    (stamp, client, listener, service, group, host, retries, connect, duration,
     bytesIn, bytesOut, termination, route) = fields
    quoted = _quoted
    line = (
        f'{{"time":"{stamp}","client":{_client(client)},"listener":{quoted[listener]},'
        f'"service":{quoted[service]},"group":{quoted[group]},"host":{quoted[host]},'
        f'"retries":{retries},"connect_ms":{"null" if connect is None else repr(connect)},'
        f'"duration_ms":{duration!r},"bytes_in":{bytesIn},"bytes_out":{bytesOut},'
        f'"termination":{quoted[termination]}'
    )
    if route is not None:
        return line + ',"route":' + json.dumps(route) + "}"
    return line + "}"


def _text(fields):
    (stamp, client, listener, service, group, host, retries, connect, duration,
     bytesIn, bytesOut, termination, route) = fields
    line = (
        f"{client or '-'} [{stamp}] {listener or '-'} {service}/{group or '-'}/{host or '-'} {retries} "
        f"{'-1' if connect is None else connect}/{duration} {bytesIn}/{bytesOut} {termination or '-'}"
    )
    if route is not None:
        return f"{line} route={route}"
    return line


def formatJSON(record):
    """
    A record (a dict, see L{recordOf}) as one line of JSON without the
    newline, its keys in the order of L{KEYS}, then C{route} when present.
    """
    return _json(_fields(record))


def formatText(record):
    """
    A record (a dict, see L{recordOf}) as one line of text without the
    newline: client, accept time, listener, service/group/host, retries,
    connect/total milliseconds, bytes in/out, termination (and
    C{route=...} when routed). A missing value is C{-}; a connect time
    never measured is C{-1}.
    """
    return _text(_fields(record))


FORMATS = {"text": formatText, "json": formatJSON}
_FAST = {"text": _text, "json": _json}


class AccessLogService(Service):
    """
    Writes the access log while running: a service of the balancer that
    every L{txlb.proxy.ProxyService} gives its ended clients to
    (L{record}). Records are buffered and written once a second, when
    64 KiB are waiting, and when the service stops; once stopped (while
    the relay drains), each record is written at once.

    C{SIGUSR1} reopens the file at its path (L{reopen}).

    @ivar path: the file, or C{"-"} for txlb's own log.
    @ivar format: C{"text"} or C{"json"}.
    """

    log = Logger()
    name = "access-log"

    def __init__(self, path, format, reactor, clock=None, signals=True):
        """
        @param signals: whether to reopen on C{SIGUSR1} (False in tests).
        """
        self.path = path
        self.format = format
        self._format = _FAST[format]
        self.reactor = reactor
        self.clock = clock if clock is not None else reactor
        self.signals = signals
        self.file = None
        self.lines = None
        self._stamp = _Stamps()
        self._unhook = None

    @classmethod
    def fromSpec(cls, spec, reactor, clock=None):
        """
        The access log a L{txlb.config.AccessLog} describes.
        """
        return cls(spec.path, spec.format, reactor, clock)

    def startService(self):
        """
        Open the file (exiting with one sentence when it cannot be opened
        while twistd starts) and listen for C{SIGUSR1}.
        """
        Service.startService(self)
        if self.path != "-" and self.file is None:
            try:
                self.file = AppendFile(self.path)
            except OSError as e:
                message = f"cannot open the access log {self.path}: {e.strerror or e}"
                self.log.critical("{message}", message=message)
                raise quietExit(StartupError(message)) from None
            self.lines = BufferedLines(self.file, self.clock)
        if self.signals and self._unhook is None:
            self._unhook = onSignal(signal.SIGUSR1, self.reactor, self.reopen)

    def stopService(self):
        """
        Write what is waiting; later records (from connections still
        draining) are written one by one. C{SIGUSR1} no longer reopens the
        file (the process's own signal handling keeps the signal harmless,
        L{txlb.operatorsignals}).
        """
        Service.stopService(self)
        self._stopHearing()
        if self.lines is not None:
            self.lines.flush()

    def _stopHearing(self):
        if self._unhook is not None:
            unhook, self._unhook = self._unhook, None
            unhook()

    def record(self, client):
        """
        Log the record of C{client}, a L{txlb.relay.ClientSide} that ended.
        """
        try:
            fields = fieldsOf(client, self.clock.seconds(), self._stamp)
            line = self._format(fields)
        except Exception:
            # Never let a record stop the relay's bookkeeping.
            self.log.failure("cannot make the access log record of a connection")
            return
        lines = self.lines
        if lines is None:
            self.log.info("{line}", line=line, access=_record(fields))
            return
        lines.add(line + "\n")
        if not self.running:
            lines.flush()

    def recordUnrelayed(self, service, transport, factory, termination, acceptedAt=None):
        """
        Log the record of a connection closed before the relay saw it:
        accepted by C{factory}'s listener for C{service} at C{acceptedAt},
        ended for C{termination} (such as C{proxy-header}).
        """
        self.record(_Unrelayed(service, transport, factory, termination, acceptedAt))

    def reopen(self):
        """
        Write what is waiting to the old file, then open the path again
        (logrotate renamed the old one).
        """
        if self.file is None:
            return
        self.lines.flush()
        try:
            self.file.reopen()
        except OSError as e:
            self.log.error(
                "cannot reopen the access log {path}: {error}; still writing to the old file",
                path=self.file.path,
                error=e.strerror or e,
            )
            return
        self.log.info("reopened the access log {path}", path=self.file.path)

    def close(self):
        """
        Write what is waiting, close the file, stop listening for signals.
        """
        self._stopHearing()
        if self.file is not None:
            self.lines.flush()
            self.file.close()
            self.file = self.lines = None


__all__ = ["AccessLogService", "FORMATS", "KEYS", "fieldsOf", "formatJSON", "formatText", "recordOf"]
