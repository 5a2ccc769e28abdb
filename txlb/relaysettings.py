"""
What the relay reads per connection: one frozen value per service, built
once by the builder from the service's description.
"""

import attr

DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_MAX_TRIES = 3
DEFAULT_BUFFER_SIZE = 64 * 1024
DEFAULT_HELLO_TIMEOUT = 3.0
DEFAULT_HANDSHAKE_TIMEOUT = 10.0


@attr.s(frozen=True, slots=True)
class RelaySettings:
    """
    What the relay reads per connection, built once per service.

    @ivar connectTimeout: seconds a host has to accept.
    @ivar idleTimeout: seconds a connection may be silent both ways, or None.
    @ivar maxTries: hosts tried before the client is given up.
    @ivar bufferSize: bytes kept from a client while connecting.
    @ivar splice: whether bulk connections may move to the kernel.
    @ivar lean: whether plain TCP connections take the lean path
        (L{txlb.lean}).
    @ivar helloTimeout: seconds a client has to send its TLS ClientHello
        when routing needs it.
    @ivar handshakeTimeout: seconds a TLS client has to finish its
        handshake before it is closed (None: 10).
    """

    connectTimeout = attr.ib(default=DEFAULT_CONNECT_TIMEOUT)
    idleTimeout = attr.ib(default=None)
    maxTries = attr.ib(default=DEFAULT_MAX_TRIES)
    bufferSize = attr.ib(default=DEFAULT_BUFFER_SIZE)
    splice = attr.ib(default=True)
    lean = attr.ib(default=True)
    helloTimeout = attr.ib(default=DEFAULT_HELLO_TIMEOUT)
    handshakeTimeout = attr.ib(default=None)
