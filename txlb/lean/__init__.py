"""
The lean connection path: plain TCP from accept to close without Twisted's
generic transports.

Twisted's TCP transport serves every protocol; a relayed connection needs
little of it, and pays per connection for what it does not need (a
transport object per socket with its buffers, a connector and its
Deferreds, a C{callLater} per timeout, several epoll registrations and
removals, extra C{connect_ex} and C{shutdown} calls). Here one L{Pair} owns
the client's socket and its host's socket and registers them with the
reactor directly (as L{IReadDescriptor}/L{IWriteDescriptor}), only while
the state needs it: a side is read while its peer has nothing unsent
(backpressure), written only while it has something unsent or is
connecting. A connect is one C{connect_ex}, its result read from
C{SO_ERROR} when the socket becomes writable; bytes go straight to the
socket and only what it did not take is kept. Connect and idle timeouts
live on one coarse L{Wheel} per service, swept four times a second.

Everything else is the normal path's: the pool's leases, waits and
refusals, failover to untried hosts, exact counters, half-closes and
resets relayed as they came, the zero-copy hand-off for bulk transfers
(L{txlb._splice}), draining on stop, and one word of L{txlb.terminations}
per connection. A connection the lean path cannot carry (its host is not a
TCP address, or needs TLS or a PROXY header) is handed at accept, before
any host is chosen, to Twisted's transports and the normal relay.
"""

from txlb.lean._pair import Pair
from txlb.lean._port import LeanPort, LeanRelay, carriesOn, listen
from txlb.lean._wheel import Wheel

__all__ = ["LeanPort", "LeanRelay", "Pair", "Wheel", "carriesOn", "listen"]
