"""
Clients for the fault suite: plain sockets in threads of the runner.
"""

import selectors
import socket
import struct
import time

import attr

BLOCK = 256 * 1024


@attr.s(frozen=True)
class Transfer:
    """
    How one client connection went.

    @ivar sent: bytes sent.
    @ivar received: the bytes that came back.
    @ivar error: C{None} after a clean EOF, else C{"reset"}, C{"refused"}
        or C{"hung"} (nothing happened for the timeout).
    @ivar seconds: how long it took.
    """

    sent = attr.ib()
    received = attr.ib()
    error = attr.ib()
    seconds = attr.ib()


def transfer(address, payload=b"", timeout=30.0, halfClose=True):
    """
    Connect, send C{payload} while reading, shut down the write side
    (unless not C{halfClose}), and read until EOF; a reset or C{timeout}
    seconds of silence end it early.
    """
    started = time.monotonic()
    try:
        s = socket.create_connection(address, timeout=timeout)
    except OSError:
        return Transfer(0, b"", "refused", time.monotonic() - started)
    view = memoryview(payload)
    sent, chunks, error = 0, [], None
    with s, selectors.DefaultSelector() as selector:
        s.setblocking(False)
        selector.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE)
        writing = True
        while True:
            events = selector.select(timeout)
            if not events:
                error = "hung"
                break
            mask = events[0][1]
            if mask & selectors.EVENT_READ:
                try:
                    data = s.recv(BLOCK)
                except BlockingIOError:
                    data = None
                except OSError:
                    error = "reset"
                    break
                if data == b"":
                    break
                if data:
                    chunks.append(data)
            if writing and mask & selectors.EVENT_WRITE:
                try:
                    if sent < len(payload):
                        sent += s.send(view[sent : sent + BLOCK])
                    else:
                        if halfClose:
                            s.shutdown(socket.SHUT_WR)
                        writing = False
                        selector.modify(s, selectors.EVENT_READ)
                except BlockingIOError:
                    pass
                except OSError:
                    error = "reset"
                    break
    return Transfer(sent, b"".join(chunks), error, time.monotonic() - started)


def reset(sock):
    """
    Close C{sock} with a reset (RST) instead of a FIN.
    """
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def settle(measure, goal, timeout=10.0, interval=0.05):
    """
    Wait until C{goal(measure())} is true, polling; return the last value
    measured (whether or not the goal was reached).
    """
    deadline = time.monotonic() + timeout
    while True:
        value = measure()
        if goal(value) or time.monotonic() > deadline:
            return value
        time.sleep(interval)
