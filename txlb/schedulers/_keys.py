"""
What the hashing schedulers (C{hash}, C{maglev}) hash a connection by:
their C{key=} option.

    ===============  ==============================================
    C{key=source}    the client's IP address (the default)
    C{key=source-port} the client's address and port
    C{key=sni}       the TLS server name (the client's address when
                     it sent none)
    a function       given in a C{.tac} as C{Group(hashKey=...)}:
                     called with the connection, returns a string
    ===============  ==============================================

The client handed to a scheduler's C{pick} is a
L{txlb.routing.Connection} (or, from older callers, a bare address): both
have C{host} and C{port}.
"""

from twisted.logger import Logger

from txlb._ratelimit import RateLimiter, sinceLast
from txlb.schedulers._base import clientKey


def sourcePortKey(client):
    """
    The client's address and port (one key per connection of a client).
    """
    port = getattr(client, "port", None)
    if port is None:
        return clientKey(client)
    return f"{clientKey(client)}:{port}"


def sniKey(client):
    """
    The TLS server name the client asked for, or its address without one.
    """
    sni = getattr(client, "sni", None)
    return f"sni:{sni}" if sni else clientKey(client)


KEYS = {"source": clientKey, "source-port": sourcePortKey, "sni": sniKey}


class _CallableKey:
    """
    A key function from a C{.tac}: its answer is hashed as a string; when it
    raises, the client's address is used and one line per burst is logged.
    """

    log = Logger()

    def __init__(self, function, clock):
        self.function = function
        self.limiter = RateLimiter(clock)

    def __call__(self, client):
        try:
            key = self.function(client)
        except Exception as e:
            suppressed = self.limiter.allow()
            if suppressed is not None:
                self.log.warn(
                    "hash key function {function!r} raised {error}; hashing the client address{more}",
                    function=self.function,
                    error=f"{e.__class__.__name__}: {e}",
                    more=sinceLast(suppressed),
                )
            return clientKey(client)
        if isinstance(key, bytes):
            return key.decode("latin-1")
        return str(key)


def hashKeyOption(value):
    """
    The C{key=} option's converter: a key name, or a function.

    @raise ValueError: for an unknown name.
    """
    if callable(value):
        return value
    if value not in KEYS:
        raise ValueError(f"the key must be one of {', '.join(KEYS)} (or a function in a .tac)")
    return value


def keyFunction(option, clock=None):
    """
    The function from a client to the string hashed, for a C{key=} option
    (a name of L{KEYS} or a function).
    """
    if callable(option):
        return _CallableKey(option, clock)
    return KEYS[option]


def needsHello(option):
    """
    Whether a C{key=} option reads the TLS ClientHello (C{sni}, or a
    function, which may read it).
    """
    return option == "sni" or callable(option)
