"""
The contract of L{txlb.continuum} (python-continuum's semantics): servers
with capacities, C{resolve} for str and bytes keys, clear errors, and the
properties of consistent hashing, checked with hypothesis.
"""

import doctest
import os
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from tests.support import ROOT
from txlb.continuum import Continuum, EmptyContinuum, Server, ServerAlreadyAdded
from txlb.schedulers._structures import HashRing

KEYS = st.one_of(st.text(max_size=30), st.binary(max_size=30))
SERVERS = st.lists(st.tuples(st.integers(1, 40), st.integers(1, 4)), min_size=1, max_size=8, unique_by=lambda s: s[0])


def continuum(servers):
    c = Continuum()
    for host, capacity in servers:
        c.add_server(f"10.0.0.{host}", 8080, capacity)
    return c


class ReadmeTests(SynchronousTestCase):
    def test_readme(self):
        """
        python-continuum's README session: an empty continuum cannot be
        queried; servers are added with capacities and print as in it; a
        removed server is gone; a server cannot be added twice.
        """
        c = Continuum()
        e = self.assertRaises(IndexError, c.resolve, "my-key1")
        self.assertEqual(str(e), "empty continuum")
        self.assertEqual(repr(c.add_server("192.168.0.1", 8080)), '<Server "192.168.0.1:8080", capacity=1>')
        c.add_server("192.168.0.2", 8080)
        self.assertEqual(repr(c.add_server("192.168.0.3", 8080, 2)), '<Server "192.168.0.3:8080", capacity=2>')
        server = c.add_server("192.168.0.4", 8080)
        self.assertIsNone(c.remove_server(server))
        self.assertEqual(len(c), 3)
        e = self.assertRaises(TypeError, c.add_server, "192.168.0.2", 8080)
        self.assertIsInstance(e, ServerAlreadyAdded)
        self.assertIn("192.168.0.2:8080 already added", str(e))
        self.assertIsInstance(c.resolve("my-first-key"), Server)

    def test_errors(self):
        """
        The errors are their own classes, and a bad capacity, an unknown
        server to remove or a key of another type are one sentence.
        """
        self.assertRaises(EmptyContinuum, Continuum().resolve, b"k")
        c = Continuum()
        self.assertRaises(ValueError, c.add_server, "h", 1, 0)
        self.assertRaises(ValueError, c.add_server, "h", 1, 1.5)
        self.assertRaises(ValueError, c.remove_server, Server("h", 1))
        c.add_server("h", 1)
        self.assertRaises(TypeError, c.resolve, 42)

    def test_camelCase(self):
        """
        C{addServer} and C{removeServer} are the same methods.
        """
        c = Continuum()
        s = c.addServer("h", 1)
        c.removeServer(s)
        self.assertEqual(len(c), 0)

    def test_sameRingAsHash(self):
        """
        The continuum is the C{hash} scheduler's ring: the same members give
        the same answers.
        """
        c = continuum([(1, 1), (2, 3)])
        ring = HashRing([("10.0.0.1:8080", 1), ("10.0.0.2:8080", 3)])
        servers = list(c)
        for i in range(200):
            self.assertEqual(c.resolve(f"k{i}"), servers[ring.resolve(f"k{i}")])


class PropertyTests(SynchronousTestCase):
    @settings(max_examples=50, deadline=None)
    @given(SERVERS, st.lists(KEYS, max_size=20))
    def test_deterministic(self, servers, keys):
        """
        Two continuums of the same servers, added in any order, resolve
        every key alike; a bytes key resolves as its UTF-8 text.
        """
        a = continuum(servers)
        b = continuum(list(reversed(servers)))
        for key in keys:
            self.assertEqual(a.resolve(key), b.resolve(key))
            if isinstance(key, str):
                try:
                    encoded = key.encode("utf-8")
                except UnicodeEncodeError:
                    continue
                self.assertEqual(a.resolve(key), a.resolve(encoded))

    @settings(max_examples=40, deadline=None)
    @given(SERVERS, st.integers(1, 40), st.integers(1, 4), st.lists(KEYS, min_size=1, max_size=30))
    def test_addMovesOnlyToNew(self, servers, host, capacity, keys):
        """
        Adding a server moves keys only to it; removing it again puts every
        key back.
        """
        if host in {h for h, _ in servers}:
            return
        c = continuum(servers)
        before = {k: c.resolve(k) for k in keys}
        added = c.add_server(f"10.0.0.{host}", 8080, capacity)
        for k in keys:
            self.assertIn(c.resolve(k), (before[k], added))
        c.remove_server(added)
        self.assertEqual({k: c.resolve(k) for k in keys}, before)

    @settings(max_examples=20, deadline=None)
    @given(st.integers(1, 4), st.integers(1, 4))
    def test_capacityShares(self, first, second):
        """
        Keys spread roughly in proportion to the capacities.
        """
        c = continuum([(1, first), (2, second)])
        counts = Counter(c.resolve(f"key-{i}").host for i in range(4000))
        share = counts["10.0.0.1"] / 4000
        self.assertLess(abs(share - first / (first + second)), 0.12)


class DocTests(SynchronousTestCase):
    def test_docExample(self):
        """
        The session shown in doc/schedulers.rst runs as shown.
        """
        with open(os.path.join(ROOT, "doc", "schedulers.rst")) as f:
            text = f.read()
        part = text[text.index("The continuum on its own") :]
        block = "\n".join(line[4:] for line in part.splitlines() if line.startswith("    "))
        test = doctest.DocTestParser().get_doctest(block, {}, "schedulers.rst", "doc/schedulers.rst", 0)
        runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
        runner.run(test)
        self.assertEqual(runner.summarize(verbose=False).failed, 0)
