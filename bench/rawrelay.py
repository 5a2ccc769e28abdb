"""
The ceiling: a featureless TCP relay on raw non-blocking sockets and one
select.epoll, for bench/run.py to measure txlb against. It accepts in a
loop, connects with connect_ex, relays both ways, stops reading a side
while the other has unsent bytes (backpressure) and passes half-closes on
with shutdown. No failover, timeouts, accounting or configuration: what
any Python relay pays at least on this interpreter.

    python bench/rawrelay.py LISTEN_PORT BACKEND_PORT
"""

import errno
import select
import socket
import sys

IN, OUT = select.EPOLLIN, select.EPOLLOUT


class Side:
    __slots__ = ("sock", "fd", "peer", "out", "eof", "shut", "connecting", "mask")

    def __init__(self, sock):
        self.sock = sock
        self.fd = sock.fileno()
        self.peer = None
        self.out = b""
        self.eof = False
        self.shut = False
        self.connecting = False
        self.mask = 0


def main(listenPort, backendPort):
    poller = select.epoll()
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", listenPort))
    listener.listen(4096)
    listener.setblocking(False)
    poller.register(listener.fileno(), IN)
    sides = {}

    def want(side, mask):
        if mask != side.mask:
            if side.mask == 0:
                poller.register(side.fd, mask)
            elif mask == 0:
                poller.unregister(side.fd)
            else:
                poller.modify(side.fd, mask)
            side.mask = mask

    def close(side):
        for s in (side, side.peer):
            if s is not None and s.fd in sides:
                want(s, 0)
                del sides[s.fd]
                s.sock.close()

    def shutWrite(side):
        if not side.out and not side.shut:
            side.shut = True
            try:
                side.sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        if side.shut and side.eof and side.peer.shut and side.peer.eof:
            close(side)

    def flush(side):
        if side.out:
            try:
                n = side.sock.send(side.out)
            except BlockingIOError:
                n = 0
            side.out = side.out[n:]
        peer = side.peer
        if side.out:
            want(side, OUT)
            want(peer, 0)
        else:
            want(side, 0 if side.eof else IN)
            if not peer.eof:
                want(peer, IN)
            if peer.eof:
                shutWrite(side)

    while True:
        for fd, event in poller.poll():
            if fd == listener.fileno():
                while True:
                    try:
                        client, _ = listener.accept()
                    except BlockingIOError:
                        break
                    client.setblocking(False)
                    backend = socket.socket()
                    backend.setblocking(False)
                    for s in (client, backend):
                        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    a, b = Side(client), Side(backend)
                    a.peer, b.peer = b, a
                    sides[a.fd], sides[b.fd] = a, b
                    b.connecting = True
                    if backend.connect_ex(("127.0.0.1", backendPort)) not in (0, errno.EINPROGRESS):
                        close(a)
                        continue
                    want(b, OUT)
                continue
            side = sides.get(fd)
            if side is None:
                continue
            try:
                if side.connecting:
                    side.connecting = False
                    if side.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                        close(side)
                        continue
                    want(side, IN)
                    want(side.peer, IN)
                    continue
                if event & OUT:
                    flush(side)
                if event & (IN | select.EPOLLHUP | select.EPOLLERR) and fd in sides and not side.eof:
                    data = side.sock.recv(65536)
                    peer = side.peer
                    if not data:
                        side.eof = True
                        want(side, OUT if side.out else 0)
                        shutWrite(peer)
                    else:
                        peer.out += data
                        flush(peer)
            except OSError:
                close(side)


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
