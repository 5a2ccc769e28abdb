"""
Tests for L{txlb.state} and L{txlb.reload}: the state file is written
atomically and read back, a bad one is one sentence; at start a stored
description wins over the built one; SIGHUP applies its source or, when
the source is broken, changes nothing.
"""

import os
import shutil
import stat
import tempfile

from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import SynchronousTestCase

from txlb.builder import Builder
from txlb.config import Balancer, Group, Host, Service
from txlb.errors import ConfigError
from txlb.reload import Reloader, keepState
from txlb.state import StateFile

SPEC = Balancer(services=[
    Service("web", listen="tcp:8080", groups=[Group("g", hosts=[Host("a", "127.0.0.1:8081")])]),
])
MORE = Balancer(services=[
    Service("web", listen="tcp:8080", groups=[
        Group("g", hosts=[Host("a", "127.0.0.1:8081"), Host("b", "127.0.0.1:8082", backup=True)]),
    ]),
])


class StateFileTests(SynchronousTestCase):
    def setUp(self):
        self.directory = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.directory, True)
        self.path = os.path.join(self.directory, "state.json")

    def test_roundTrip(self):
        """
        A written description reads back equal; the file is its owner's
        only and no temporary file is left beside it.
        """
        state = StateFile(self.path)
        self.assertIsNone(state.read())
        state.write(MORE)
        state.write(SPEC)
        self.assertEqual(state.read(), SPEC)
        self.assertEqual(stat.S_IMODE(os.stat(self.path).st_mode), 0o600)
        self.assertEqual(os.listdir(self.directory), ["state.json"])

    def test_bad(self):
        """
        A file that is not JSON, not a state file, or holds a description
        txlb refuses is one sentence naming the file.
        """
        for text, words in [("{", "is not JSON"), ('{"a": 1}', "is not a txlb state file"),
                            ('{"format": "txlb-state-1", "balancer": {"services": {"w": {}}}}',
                             "needs at least one group")]:
            with open(self.path, "w") as f:
                f.write(text)
            with self.assertRaises(ConfigError) as e:
                StateFile(self.path).read()
            self.assertIn(self.path, str(e.exception))
            self.assertIn(words, str(e.exception))


class KeepStateTests(SynchronousTestCase):
    def setUp(self):
        self.directory = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.directory, True)
        self.path = os.path.join(self.directory, "state.json")
        self.builder = Builder(MemoryReactorClock())

    def test_storedWins(self):
        """
        When the state file exists, the balancer (not yet started) is
        changed to what it holds; later changes are written to it.
        """
        StateFile(self.path).write(MORE)
        balancer = self.builder.balancer(SPEC)
        keepState(balancer, self.builder, self.path, "site.tac")
        self.assertEqual(balancer.spec, MORE)
        self.assertTrue(balancer.proxies["web"].pools["g"].hosts["b"].backup)
        balancer.setSpec(SPEC)
        self.assertEqual(StateFile(self.path).read(), SPEC)

    def test_noFile(self):
        """
        Without a state file nothing changes and nothing is written until
        a change.
        """
        balancer = self.builder.balancer(SPEC)
        keepState(balancer, self.builder, self.path, "site.tac")
        self.assertEqual(balancer.spec, SPEC)
        self.assertFalse(os.path.exists(self.path))


class ReloaderTests(SynchronousTestCase):
    def setUp(self):
        self.builder = Builder(MemoryReactorClock())
        self.balancer = self.builder.balancer(SPEC)
        self.hangups = []
        self.source = [MORE]

        def source():
            if isinstance(self.source[0], Exception):
                raise self.source[0]
            return self.source[0]

        def hangup(reactor, callback):
            self.hangups.append(callback)
            return lambda: self.hangups.remove(callback)

        self.reloader = Reloader(self.balancer, self.builder, source, "site.tac", hangup=hangup)
        self.reloader.setServiceParent(self.balancer)
        self.balancer.startService()
        self.addCleanup(self.balancer.stopService)

    def test_reload(self):
        """
        SIGHUP applies the source's description in place.
        """
        pool = self.balancer.proxies["web"].pools["g"]
        host = pool.hosts["a"]
        (hangup,) = self.hangups
        hangup()
        self.assertEqual(self.balancer.spec, MORE)
        self.assertIs(pool.hosts["a"], host)
        self.assertIn("b", pool.hosts)

    def test_broken(self):
        """
        A source that raises ConfigError changes nothing.
        """
        self.source[0] = ConfigError("site.tac, line 3: invalid syntax")
        self.hangups[0]()
        self.assertEqual(self.balancer.spec, SPEC)

    def test_stopped(self):
        """
        A stopped reloader no longer hears SIGHUP.
        """
        self.reloader.stopService()
        self.assertEqual(self.hangups, [])
