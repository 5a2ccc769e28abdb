"""
Every place txlb reaches into Twisted's private attributes, gathered here.

Each reach-in was checked against Twisted 22.10 to 26.10 (the versions
``setup.cfg`` allows and CI installs) and says what happens when the
attribute is missing in another version: txlb then falls back to
Twisted's public behaviour, slower or noisier but correct.
"""

from twisted.internet import endpoints
from twisted.internet.endpoints import SSL4ServerEndpoint
from twisted.logger import Logger


def setNoDelay(transport):
    """
    Turn TCP_NODELAY on when the transport has it (public API; transports
    other than TCP lack it or refuse it).
    """
    setTcpNoDelay = getattr(transport, "setTcpNoDelay", None)
    if setTcpNoDelay is not None:
        try:
            setTcpNoDelay(True)
        except OSError:
            pass


def writeQueued(transport):
    """
    True when a TCP transport still holds bytes it has not written.

    Reach-in: C{tcp.Connection.dataBuffer} and C{_tempDataBuffer}
    (L{twisted.internet.abstract.FileDescriptor}). Missing: report a write
    as queued, so the zero-copy path is never taken.
    """
    try:
        return bool(transport.dataBuffer or transport._tempDataBuffer)
    except AttributeError:
        return True


def epollInternals(reactor):
    """
    C{(poller, selectables, doReadOrWrite)} of Twisted's epoll reactor, or
    None.

    Reach-in: C{EPollReactor._poller}, C{_selectables} and
    C{_doReadOrWrite}. Missing: None, and the reactor keeps its own
    dispatch loop.
    """
    try:
        return reactor._poller, reactor._selectables, reactor._doReadOrWrite
    except AttributeError:
        return None


def setBacklog(endpoint, backlog):
    """
    Set the listen backlog of a TCP server endpoint made from a string
    without C{backlog=}.

    Reach-in: C{TCP4ServerEndpoint._backlog}. Missing: nothing is set, and
    Twisted's default backlog of 50 applies.
    """
    if hasattr(endpoint, "_backlog"):
        endpoint._backlog = backlog


def tcpEndpointAddress(endpoint):
    """
    C{(interface, port, backlog)} of a TCP server endpoint, or None.

    Reach-in: C{TCP4ServerEndpoint._interface}, C{_port}, C{_backlog}.
    Missing: None, and the caller refuses to share the listener with a
    sentence.
    """
    try:
        return endpoint._interface, endpoint._port, endpoint._backlog
    except AttributeError:
        return None


def observeAcceptErrors(port, observer):
    """
    Send what a listening port logs about failed accepts to C{observer}.

    Reach-in: C{tcp.Port._logger}. Missing: nothing changes, and Twisted
    logs each failed accept itself.
    """
    portLogger = getattr(port, "_logger", None)
    if portLogger is not None:
        port._logger = Logger(namespace=portLogger.namespace, observer=observer)


def twistdRotatingLogFile(handler):
    """
    The L{twisted.python.logfile.LogFile} that C{twistd}'s own C{SIGUSR1}
    handler rotates, or None when C{handler} is not that handler.

    Reach-in: the closure of C{rotateLog} in
    C{twisted.scripts._twistd_unix.UnixAppLogger._getLogObserver} (checked
    in Twisted 22.10 to 26.10). Missing: None, and C{SIGUSR1} leaves
    twistd's log file alone (it still reopens txlb's own log files).
    """
    if getattr(handler, "__name__", None) != "rotateLog":
        return None
    if not getattr(handler, "__module__", "").startswith("twisted.scripts"):
        return None
    for cell in getattr(handler, "__closure__", None) or ():
        try:
            value = cell.cell_contents
        except ValueError:
            continue
        if callable(getattr(value, "reopen", None)) and hasattr(value, "path"):
            return value
    return None


def parseEndpointString(description):
    """
    C{(args, kwargs)} of an endpoint string, unquoted, as Twisted reads it
    (C{ssl:8443:privateKey=k.pem} gives C{(["ssl", "8443"], {"privateKey":
    "k.pem"})}).

    Reach-in: C{twisted.internet.endpoints._parse} (Twisted 22.10 to
    26.10). Missing: ValueError, and the caller says the string cannot be
    read.
    """
    parse = getattr(endpoints, "_parse", None)
    if parse is None:
        raise ValueError("this Twisted cannot split endpoint strings")
    return parse(description)


def sslContextFactory(endpoint):
    """
    The context factory of an C{ssl:} server endpoint, or None for another
    endpoint.

    Reach-in: C{SSL4ServerEndpoint._sslContextFactory} (Twisted 22.10 to
    26.10). Missing: None, and the caller treats the endpoint as not TLS
    (C{--workers} then refuses to share it, with a sentence).
    """
    if not isinstance(endpoint, SSL4ServerEndpoint):
        return None
    return getattr(endpoint, "_sslContextFactory", None)


def sslServerContext(endpoint):
    """
    The pyOpenSSL context an C{ssl:} server endpoint serves (the one
    context every connection shares), or None for another endpoint.
    """
    getContext = getattr(sslContextFactory(endpoint), "getContext", None)
    return getContext() if getContext is not None else None
def haproxyParts():
    """
    Twisted's PROXY protocol reader, as
    C{(HAProxyProtocolWrapper, HAProxyWrappingFactory, V1Parser, V2Parser,
    InvalidProxyHeader, ProxyInfo)}.

    Reach-in: the private modules of L{twisted.protocols.haproxy}
    (C{_wrapper}, C{_v1parser}, C{_v2parser}, C{_exceptions}, C{_info}), which only
    export C{proxyEndpoint}; the same names and behaviour from 22.10 to
    26.10. Missing: ImportError when L{txlb.proxyaccept} is imported (there
    is no fallback: the PROXY protocol needs Twisted's parsers).
    """
    from twisted.protocols.haproxy._exceptions import InvalidProxyHeader
    from twisted.protocols.haproxy._info import ProxyInfo
    from twisted.protocols.haproxy._v1parser import V1Parser
    from twisted.protocols.haproxy._v2parser import V2Parser
    from twisted.protocols.haproxy._wrapper import HAProxyProtocolWrapper, HAProxyWrappingFactory

    return HAProxyProtocolWrapper, HAProxyWrappingFactory, V1Parser, V2Parser, InvalidProxyHeader, ProxyInfo


def pauseAccepting(port):
    """
    Stop accepting new connections on a listening port (they wait in the
    kernel's backlog) without closing it.

    Reach-in: C{stopReading} of L{twisted.internet.abstract.FileDescriptor},
    which TCP and UNIX ports are (not part of L{IListeningPort}); the same
    from 22.10 to 26.10. Missing: nothing is paused, and the port keeps
    accepting past C{maxconn}.
    """
    stopReading = getattr(port, "stopReading", None)
    if stopReading is not None:
        stopReading()


def resumeAccepting(port):
    """
    Accept again on a port L{pauseAccepting} paused.

    Reach-in: C{startReading}, as for L{pauseAccepting}. Missing: nothing.
    """
    startReading = getattr(port, "startReading", None)
    if startReading is not None and getattr(port, "connected", True):
        startReading()


def limitAccepts(port, headroom):
    """
    Make each accept batch of a listening port take at most C{headroom()}
    connections (None: no limit; 0 or less: none at all).

    Twisted's C{Port.doRead} accepts up to C{numberAccepts} connections in
    one loop, so pausing the port (L{pauseAccepting}) from inside the loop
    would not stop the batch: a C{maxconn} would be overshot by up to a
    hundred connections.

    Reach-in: C{tcp.Port.numberAccepts} (read at the start of C{doRead},
    adjusted by Twisted after each batch) and C{doRead}, wrapped on the
    instance; the same from 22.10 to 26.10, UNIX ports included. Missing:
    nothing is wrapped, and a burst may overshoot C{maxconn} by one batch.
    """
    original = getattr(port, "doRead", None)
    if original is None or not isinstance(getattr(port, "numberAccepts", None), int):
        return

    def doRead():
        room = headroom()
        if room is not None:
            if room <= 0:
                return None
            port.numberAccepts = max(1, min(port.numberAccepts, room))
        return original()

    port.doRead = doRead


def isUnixEndpoint(endpoint):
    """
    True for a UNIX socket server endpoint (C{unix:PATH}).

    Reach-in: C{UNIXServerEndpoint._address}. Missing: False, so such an
    endpoint counts as reachable from elsewhere (the safe side).
    """
    return hasattr(endpoint, "_address")


def quietConnectionPool(reactor, persistent=True):
    """
    An L{twisted.web.client.HTTPConnectionPool} whose connections do not
    log "Starting factory" / "Stopping factory" (one pair per etcd call
    would drown the log).

    Reach-in: C{HTTPConnectionPool._factory} (the class it makes client
    factories of; L{twisted.web.client._HTTP11ClientFactory}), present in
    22.10 to 26.10. Missing: a plain pool, noisier but correct.
    """
    from twisted.web import client

    pool = client.HTTPConnectionPool(reactor, persistent=persistent)
    base = getattr(client, "_HTTP11ClientFactory", None)
    if base is not None and hasattr(pool, "_factory"):
        pool._factory = type("QuietHTTP11ClientFactory", (base,), {"noisy": False})
    return pool


def closeWithoutShutdown(port):
    """
    Make a listening port's C{stopListening} close this process's
    descriptor only: by default Twisted calls C{shutdown(SHUT_RDWR)} first,
    which on Linux stops the listening socket for every process holding a
    copy of it (the one a handover passed it to included).

    Reach-in: C{tcp._SocketCloser._shouldShutdown} (a class attribute, set
    here on the instance). Missing: nothing is set; a Twisted without it
    does not shut sockets down before closing them.
    """
    if hasattr(port, "_shouldShutdown"):
        port._shouldShutdown = False
