"""
Every place txlb reaches into Twisted's private attributes, gathered here.

Each reach-in was checked against Twisted 22.10 to 26.10 (the versions
``setup.cfg`` allows and CI installs) and says what happens when the
attribute is missing in another version: txlb then falls back to
Twisted's public behaviour, slower or noisier but correct.
"""

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


def isUnixEndpoint(endpoint):
    """
    True for a UNIX socket server endpoint (C{unix:PATH}).

    Reach-in: C{UNIXServerEndpoint._address}. Missing: False, so such an
    endpoint counts as reachable from elsewhere (the safe side).
    """
    return hasattr(endpoint, "_address")


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
