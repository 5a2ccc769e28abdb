"""
Consistent hashing with capacities, usable without the balancer: the ring
the C{hash} scheduler uses, with python-continuum's interface.

    >>> from txlb.continuum import Continuum
    >>> c = Continuum()
    >>> c.add_server("192.168.0.1", 8080)
    <Server "192.168.0.1:8080", capacity=1>
    >>> c.add_server("192.168.0.3", 8080, 2)
    <Server "192.168.0.3:8080", capacity=2>
    >>> c.resolve("my-key")  # doctest: +SKIP
    <Server "192.168.0.3:8080", capacity=2>

A server gets points on the ring in proportion to its capacity; a key
resolves to the server of the next point clockwise, so adding or removing
a server moves only the keys that go to or came from it. Keys are strings
or bytes (a bytes key resolves as its UTF-8 text would). The camelCase
names (L{Continuum.addServer}, L{Continuum.removeServer}) are the same
methods.

No Twisted here; the ring itself is
L{txlb.schedulers._structures.HashRing}.
"""

import attr

from txlb.schedulers._structures import HashRing


class EmptyContinuum(IndexError):
    """
    A key was resolved on a continuum without servers.
    """


class ServerAlreadyAdded(TypeError):
    """
    A server (the same host and port) was added twice.
    """


@attr.s(frozen=True, slots=True, repr=False)
class Server:
    """
    A server of a L{Continuum}.

    @ivar host: its host name or address.
    @ivar port: its port.
    @ivar capacity: its share of the keys relative to the others.
    """

    host = attr.ib()
    port = attr.ib()
    capacity = attr.ib(default=1, eq=False)

    @property
    def name(self):
        """
        C{host:port}, which places the server's points on the ring.
        """
        return f"{self.host}:{self.port}"

    def __repr__(self):
        return f'<Server "{self.name}", capacity={self.capacity}>'


def _text(key):
    # The ring hashes UTF-8 text: bytes that are UTF-8 stand for their text;
    # other bytes (and str with lone surrogates) are read as Latin-1, which
    # keeps distinct keys distinct.
    if isinstance(key, str):
        try:
            key.encode("utf-8")
            return key
        except UnicodeEncodeError:
            return key.encode("utf-8", "surrogatepass").decode("latin-1")
    if isinstance(key, (bytes, bytearray, memoryview)):
        key = bytes(key)
        try:
            return key.decode("utf-8")
        except UnicodeDecodeError:
            return key.decode("latin-1")
    raise TypeError(f"a continuum key must be a str or bytes, not {type(key).__name__}")


class Continuum:
    """
    A consistent-hash ring of servers with capacities.
    """

    def __init__(self):
        self._servers = []
        self._ring = HashRing([])

    def __len__(self):
        return len(self._servers)

    def __iter__(self):
        return iter(list(self._servers))

    def __contains__(self, server):
        return server in self._servers

    def add_server(self, host, port, capacity=1):
        """
        Add the server at C{host}:C{port}, with C{capacity} (a positive
        whole number), and return it.

        @raise ServerAlreadyAdded: when that host and port are on already.
        @raise ValueError: for a capacity that is not a positive whole number.
        """
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
            raise ValueError(f"a server's capacity must be a whole number above 0, not {capacity!r}")
        server = Server(host, port, capacity)
        if server in self._servers:
            raise ServerAlreadyAdded(f"server {server.name} already added")
        self._rebuild(self._servers + [server])
        return server

    def remove_server(self, server):
        """
        Remove C{server} (as L{add_server} returned it).

        @raise ValueError: when it is not on the continuum.
        """
        if server not in self._servers:
            raise ValueError(f"server {getattr(server, 'name', server)} is not on the continuum")
        self._rebuild([s for s in self._servers if s != server])

    def resolve(self, key):
        """
        The server C{key} (a str or bytes) belongs to.

        @raise EmptyContinuum: when no server was added.
        """
        text = _text(key)
        if not self._servers:
            raise EmptyContinuum("empty continuum")
        return self._servers[self._ring.resolve(text)]

    def _rebuild(self, servers):
        self._ring = HashRing([(s.name, s.capacity) for s in servers])
        self._servers = servers

    addServer = add_server
    removeServer = remove_server


__all__ = ["Continuum", "EmptyContinuum", "Server", "ServerAlreadyAdded"]
