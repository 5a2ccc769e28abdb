"""
The heartbeat datagram: what a backend says about itself, signed.

A datagram is ASCII C{TXLB-HB2}, a space, the HMAC-SHA256 of the rest
(64 hex digits), a space, and a JSON object (UTF-8) with the keys
C{name}, C{address}, C{weight}, C{load}, C{state} (C{up} or C{drain}),
C{time} (seconds since the epoch), C{nonce} (16 to 64 characters, never
reused) and C{to}, the address (C{IP:PORT} or C{[IPv6]:PORT}) the
datagram was sent to. The signature covers C{TXLB-HB2 } followed by the
JSON bytes, under a key both sides read from a file. Signing C{to} keeps
a beat meant for one listener from being replayed to another.

C{TXLB-HB1} datagrams (older agents, which did not sign the destination)
are refused with a sentence saying so.

No Twisted here: pure functions and a pure replay memory.
"""

import hashlib
import hmac
import json
import math
from collections import OrderedDict

import attr

from txlb._filemode import secretFileProblem
from txlb.errors import ConfigError

MAGIC = b"TXLB-HB2"
OLD_MAGIC = b"TXLB-HB1"
MAX_DATAGRAM = 1024
STATES = ("up", "drain")
_SIGNATURE_LENGTH = 64


class BadDatagram(Exception):
    """
    A datagram that must be dropped.

    @ivar kind: C{oversized}, C{garbled}, C{misdirected} (signed for
        another destination), C{unsigned} (bad signature), C{stale} or
        C{replayed}: the counter it goes to.
    """

    def __init__(self, kind, why):
        Exception.__init__(self, why)
        self.kind = kind


def _text(limit, minimum=1):
    def check(instance, attribute, value):
        if not isinstance(value, str) or not minimum <= len(value) <= limit:
            raise BadDatagram("garbled", f"{attribute.name} must be a string of {minimum}-{limit} characters")

    return check


def _finite(instance, attribute, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise BadDatagram("garbled", f"{attribute.name} must be a number")


def _weight(instance, attribute, value):
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10000:
        raise BadDatagram("garbled", "weight must be a whole number from 0 to 10000")


def _state(instance, attribute, value):
    if value not in STATES:
        raise BadDatagram("garbled", f"state must be one of {', '.join(STATES)}")


@attr.s(frozen=True)
class Beat:
    """
    One heartbeat: a backend's name and address, its weight and load, the
    state it asks for, when it was sent, a one-time nonce, and where it
    was sent (L{destination} of the listener's IP address and port).
    """

    name = attr.ib(validator=_text(64))
    address = attr.ib(validator=_text(256))
    weight = attr.ib(validator=_weight)
    load = attr.ib(validator=_finite)
    state = attr.ib(validator=_state)
    time = attr.ib(validator=_finite)
    nonce = attr.ib(validator=_text(64, 16))
    to = attr.ib(default="", validator=_text(64, 0))


def destination(host, port):
    """
    How a beat names the address C{(host, port)} it is sent to:
    C{IP:PORT}, or C{[IPv6]:PORT}.
    """
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _sign(key, payload):
    return hmac.new(key, MAGIC + b" " + payload, hashlib.sha256).hexdigest().encode("ascii")


def encode(beat, key):
    """
    The signed datagram for C{beat} under C{key} (bytes).
    """
    payload = json.dumps(attr.asdict(beat), sort_keys=True, separators=(",", ":")).encode("utf-8")
    return MAGIC + b" " + _sign(key, payload) + b" " + payload


def decode(datagram, key, to=None):
    """
    Check a datagram's size, form, destination and signature and return
    its L{Beat}.

    @param to: the bytes C{"to":"ADDRESS"} the JSON must hold (the one
        destination a listener bound to one address accepts), checked before
        the signature so that junk costs no HMAC; or None.
    @raise BadDatagram: saying which check failed.
    """
    if len(datagram) > MAX_DATAGRAM:
        raise BadDatagram("oversized", f"{len(datagram)} bytes, more than {MAX_DATAGRAM}")
    magic, _, rest = datagram.partition(b" ")
    signature, _, payload = rest.partition(b" ")
    if magic == OLD_MAGIC:
        raise BadDatagram(
            "garbled", "a heartbeat of an older txlb, which does not sign its destination: "
            "upgrade txlb on the backend"
        )
    if magic != MAGIC or len(signature) != _SIGNATURE_LENGTH or not payload or payload[:1] != b"{":
        raise BadDatagram("garbled", "not a txlb heartbeat")
    if to is not None and to not in payload:
        raise BadDatagram("misdirected", "not signed for this listener's address")
    if not hmac.compare_digest(signature, _sign(key, payload)):
        raise BadDatagram("unsigned", "bad signature")
    try:
        fields = json.loads(payload.decode("utf-8"))
    except ValueError:
        raise BadDatagram("garbled", "signed but not JSON") from None
    if not isinstance(fields, dict) or set(fields) != {a.name for a in attr.fields(Beat)}:
        raise BadDatagram("garbled", "signed but without the heartbeat's keys")
    return Beat(**fields)


def destinationField(address):
    """
    The bytes of C{address}'s C{to} field as L{encode} writes it (for
    L{decode}'s C{to}).
    """
    return b'"to":' + json.dumps(address).encode("utf-8")


class ReplayGuard:
    """
    Refuses heartbeats older or newer than C{maxAge} seconds and nonces
    seen within that window (after which their timestamps are refused
    anyway, so they are forgotten).

    Listeners sharing a key share one guard (see L{keepFor}): a nonce is
    then remembered for the longest C{maxAge} among them.
    """

    def __init__(self, maxAge):
        self.maxAge = maxAge
        self._seen = OrderedDict()

    def keepFor(self, maxAge):
        """
        Remember nonces for at least C{maxAge} seconds past their time.
        """
        self.maxAge = max(self.maxAge, maxAge)

    def admit(self, beat, now, maxAge=None):
        """
        Remember C{beat}'s nonce.

        @param maxAge: the seconds this listener allows between the beat's
            time and C{now} (the guard's own by default).
        @raise BadDatagram: C{stale} or C{replayed}.
        """
        allowed = self.maxAge if maxAge is None else min(maxAge, self.maxAge)
        if abs(now - beat.time) > allowed:
            raise BadDatagram("stale", f"sent {now - beat.time:.1f} s ago")
        while self._seen:
            nonce, expiry = next(iter(self._seen.items()))
            if expiry >= now:
                break
            del self._seen[nonce]
        if beat.nonce in self._seen:
            raise BadDatagram("replayed", "nonce seen before")
        self._seen[beat.nonce] = beat.time + self.maxAge
        return beat


class ReplayMemory:
    """
    One L{ReplayGuard} per key, so that a datagram is accepted once in the
    whole process whichever listener it reaches.
    """

    def __init__(self):
        self._guards = {}

    def guardFor(self, key, maxAge):
        """
        The guard of C{key}, remembering nonces for at least C{maxAge}.
        """
        digest = hashlib.sha256(key).digest()
        guard = self._guards.get(digest)
        if guard is None:
            guard = self._guards[digest] = ReplayGuard(maxAge)
        guard.keepFor(maxAge)
        return guard


def readKey(path, warn=None):
    """
    Read a heartbeat key from the file at C{path} (surrounding whitespace
    dropped).

    @param warn: called with a sentence when every user may read the file.
    @raise ValueError: naming the problem, as one sentence (also when every
        user may write the file).
    """
    try:
        problem = secretFileProblem(path, "heartbeat key file")
    except ConfigError as e:
        raise ValueError(str(e)) from None
    try:
        with open(path, "rb") as f:
            key = f.read().strip()
    except OSError as e:
        raise ValueError(f"cannot read the heartbeat key file {path!r}: {e.strerror}") from None
    if len(key) < 16:
        raise ValueError(f"the heartbeat key in {path!r} must be at least 16 bytes long")
    if problem and warn is not None:
        warn(problem)
    return key
