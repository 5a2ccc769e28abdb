"""
The heartbeat datagram: signing, checking, replay protection, key files.
"""

import os
import tempfile
import uuid

import attr
from hypothesis import given, strategies as st
from twisted.trial.unittest import SynchronousTestCase

from tests.support import temporaryFile
from txlb.health import BadDatagram, Beat, decode, encode, readKey
from txlb.health._wire import MAX_DATAGRAM, ReplayGuard

KEY = b"k" * 32


def keyFile(testCase, content="0123456789abcdef0123\n"):
    """
    Write a key file removed at C{testCase}'s cleanup; return its path.
    """
    return temporaryFile(testCase, content, suffix=".key")


def missingFile():
    """
    A path where no file is.
    """
    return os.path.join(tempfile.gettempdir(), f"txlb-missing-{uuid.uuid4().hex}.key")

beats = st.builds(
    Beat,
    name=st.text(min_size=1, max_size=64),
    address=st.text(min_size=1, max_size=100),
    weight=st.integers(0, 10000),
    load=st.floats(allow_nan=False, allow_infinity=False, width=32),
    state=st.sampled_from(["up", "drain"]),
    time=st.floats(0, 2e9),
    nonce=st.text(alphabet="0123456789abcdef", min_size=16, max_size=64),
)


def beat(**changes):
    return attr.evolve(Beat("a", "127.0.0.1:8081", 1, 0.5, "up", 1000.0, "0" * 24), **changes)


class WireTests(SynchronousTestCase):
    @given(beats)
    def test_roundTrip(self, value):
        """
        Any valid beat decodes back to itself under the same key.
        """
        datagram = encode(value, KEY)
        if len(datagram) <= MAX_DATAGRAM:
            self.assertEqual(decode(datagram, KEY), value)

    @given(beats, st.integers(0, 2000), st.integers(1, 255))
    def test_tamperDetected(self, value, where, flip):
        """
        Changing any byte of a datagram makes it refused.
        """
        datagram = bytearray(encode(value, KEY))
        where %= len(datagram)
        datagram[where] ^= flip
        self.assertRaises(BadDatagram, decode, bytes(datagram), KEY)

    @given(st.binary(max_size=2000))
    def test_garbage(self, data):
        """
        Random bytes are refused with BadDatagram, never another exception.
        """
        self.assertRaises(BadDatagram, decode, data, KEY)

    def test_kinds(self):
        """
        Each kind of bad datagram is told apart.
        """
        good = encode(beat(), KEY)
        cases = [
            (b"x" * (MAX_DATAGRAM + 1), "oversized"),
            (b"hello", "garbled"),
            (encode(beat(), b"other key 123456"), "unsigned"),
        ]
        for datagram, kind in cases:
            with self.assertRaises(BadDatagram) as raised:
                decode(datagram, KEY)
            self.assertEqual(raised.exception.kind, kind)
        self.assertEqual(decode(good, KEY), beat())

    def test_signedButWrong(self):
        """
        A correctly signed datagram with bad fields is garbled.
        """
        from txlb.health._wire import MAGIC, _sign

        for payload in [b"[1]", b"{}", b"not json",
                        b'{"address":"x","load":0,"name":"a","nonce":"0000000000000000",'
                        b'"state":"gone","time":1,"weight":1}']:
            datagram = MAGIC + b" " + _sign(KEY, payload) + b" " + payload
            with self.assertRaises(BadDatagram) as raised:
                decode(datagram, KEY)
            self.assertEqual(raised.exception.kind, "garbled")


class ReplayGuardTests(SynchronousTestCase):
    def test_stale(self):
        """
        Beats from too far in the past or the future are stale.
        """
        guard = ReplayGuard(10.0)
        for when in (1000.0 - 11, 1000.0 + 11):
            with self.assertRaises(BadDatagram) as raised:
                guard.admit(beat(time=when), 1000.0)
            self.assertEqual(raised.exception.kind, "stale")

    def test_replayed(self):
        """
        A nonce is refused the second time within the window.
        """
        guard = ReplayGuard(10.0)
        guard.admit(beat(), 1000.0)
        with self.assertRaises(BadDatagram) as raised:
            guard.admit(beat(), 1005.0)
        self.assertEqual(raised.exception.kind, "replayed")
        guard.admit(beat(nonce="1" * 24), 1005.0)

    def test_forgets(self):
        """
        Nonces are forgotten once their beats would be stale anyway.
        """
        guard = ReplayGuard(10.0)
        for i in range(100):
            guard.admit(beat(time=float(i), nonce=f"{i:016d}"), float(i))
        self.assertLessEqual(len(guard._seen), 12)


class ReadKeyTests(SynchronousTestCase):
    def test_read(self):
        """
        The key is the file's content without surrounding whitespace.
        """
        path = keyFile(self, "  0123456789abcdef\n")
        self.assertEqual(readKey(path), b"0123456789abcdef")

    def test_errors(self):
        """
        A missing file or a short key is one sentence.
        """
        self.assertRaisesRegex(
            ValueError, "cannot read the heartbeat key file", readKey, missingFile()
        )
        self.assertRaisesRegex(ValueError, "at least 16 bytes", readKey, keyFile(self, "abc"))

    def test_permissions(self):
        """
        A key file every user may read is read with a warning (as ssh
        warns); one every user may write is refused with one sentence.
        """
        path = keyFile(self)
        os.chmod(path, 0o600)
        warnings = []
        readKey(path, warnings.append)
        self.assertEqual(warnings, [])
        os.chmod(path, 0o644)
        readKey(path, warnings.append)
        self.assertEqual(len(warnings), 1)
        self.assertIn("heartbeat key file", warnings[0])
        self.assertIn("readable by every user", warnings[0])
        os.chmod(path, 0o646)
        self.assertRaisesRegex(ValueError, "writable by every user", readKey, path)
