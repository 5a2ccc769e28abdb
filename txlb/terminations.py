"""
How a client connection ended: the closed set of words the access log and
the counters use, one per connection, decided where the end is seen.
"""

#: The client closed its connection cleanly (after the backend, if any).
CLIENT_CLOSED = "client-closed"
#: The backend closed its connection cleanly first.
BACKEND_CLOSED = "backend-closed"
#: The client reset its connection; the backend was reset too.
CLIENT_RESET = "client-reset"
#: The backend reset its connection; the client was reset too.
BACKEND_RESET = "backend-reset"
#: Silent both ways for the service's idle timeout.
IDLE_TIMEOUT = "idle-timeout"
#: Every host tried refused, timed out or failed its handshake.
CONNECT_FAILED = "connect-failed"
#: No host was available (none up, or none left untried).
NO_HOST = "no-host"
#: Every host was full and the wait queue too.
QUEUE_FULL = "queue-full"
#: Every host stayed full for the whole queue timeout.
QUEUE_TIMEOUT = "queue-timeout"
#: Refused before any backend work (access control or a per-client limit).
REFUSED = "refused"
#: The client's TLS handshake failed.
TLS_FAILED = "tls-failed"
#: A missing, malformed or late PROXY protocol header.
PROXY_HEADER = "proxy-header"
#: The balancer stopped and the drain timeout ran out.
SHUTDOWN = "shutdown"

ALL = (
    CLIENT_CLOSED,
    BACKEND_CLOSED,
    CLIENT_RESET,
    BACKEND_RESET,
    IDLE_TIMEOUT,
    CONNECT_FAILED,
    NO_HOST,
    QUEUE_FULL,
    QUEUE_TIMEOUT,
    REFUSED,
    TLS_FAILED,
    PROXY_HEADER,
    SHUTDOWN,
)

#: What each of a pool's refusals (L{txlb.grants}) means for the client.
FROM_REFUSAL = {
    "no-host": NO_HOST,
    "no-other-host": NO_HOST,
    "queue-full": QUEUE_FULL,
    "queue-timeout": QUEUE_TIMEOUT,
}
