"""
Unit tests of what a node runs from what etcd holds (L{txlb.etcd._layout}),
the flags and value object naming an etcd cluster, the watch stream's
parsing and the registration agent's arguments. No etcd needed.
"""

import json

from twisted.trial.unittest import SynchronousTestCase

from txlb.config import Balancer, Etcd, Group, Host, Service
from txlb.errors import ConfigError
from txlb.etcd._agent import heartbeat
from txlb.etcd._client import KeyValue
from txlb.etcd._layout import (
    hostKey,
    nodeDescription,
    readHosts,
    readServices,
    serviceKey,
    serviceValue,
    withoutRegistered,
    writes,
)
from txlb.etcd._watch import _Lines
from txlb.tap import Options

P = "/txlb/"


def web(listen="tcp:80", hosts=(Host("a", "10.0.0.1:80"),)):
    """
    A service 'web' with one group 'blue'.
    """
    return Service("web", listen=[listen], groups=[Group("blue", hosts=hosts)])


def kv(key, value):
    """
    A stored key.
    """
    return KeyValue(key, value, 1)


class LayoutTests(SynchronousTestCase):
    """
    Reading stored services and hosts, and the description a node runs.
    """

    def test_roundTrip(self):
        """
        A service stored under its key reads back equal.
        """
        service = web()
        services, bad = readServices(P, [kv(serviceKey(P, "web"), serviceValue(service))])
        self.assertEqual((services, bad), ({"web": service}, []))

    def test_badValueLeftOut(self):
        """
        A stored value that is not a valid service is left out and named.
        """
        services, bad = readServices(P, [kv(serviceKey(P, "web"), "{not json"),
                                         kv(serviceKey(P, "x"), json.dumps({"groups": {"g": {"weight": 1}}}))])
        self.assertEqual(services, {})
        self.assertEqual(len(bad), 2)
        self.assertIn("/txlb/services/web", bad[0])

    def test_ownListenersStay(self):
        """
        A stored service this node runs keeps this node's listeners; a new
        one takes the stored listeners.
        """
        running = Balancer(services=[web("tcp:8080")])
        stored = {"web": web("tcp:80", hosts=[Host("b", "10.0.0.2:80")]),
                  "api": Service("api", listen=["tcp:81"], groups=[Group("g")])}
        node = nodeDescription(running, stored, [])
        self.assertEqual([s.listen for s in node.services], [("tcp:8080",), ("tcp:81",)])
        self.assertEqual([h.name for h in node.services[0].groups[0].hosts], ["b"])

    def test_registeredHostsJoin(self):
        """
        Registered hosts join their group; a configured host of the same
        name wins; hosts of unknown groups are left out.
        """
        value = json.dumps({"address": "10.0.0.9:80", "weight": 3})
        hosts = readHosts(P, [kv(hostKey(P, "web", "blue", "r"), value),
                              kv(hostKey(P, "web", "blue", "a"), value),
                              kv(hostKey(P, "web", "nope", "x"), value),
                              kv(hostKey(P, "web", "blue", "bad"), "{")])
        node = nodeDescription(Balancer(), {"web": web()}, hosts)
        group = node.services[0].groups[0]
        self.assertEqual([(h.name, h.address, h.weight) for h in group.hosts],
                         [("a", "10.0.0.1:80", 1), ("r", "10.0.0.9:80", 3)])

    def test_withoutRegistered(self):
        """
        A registered host is left out of a new description's services,
        unless the stored service holds a host of that name itself.
        """
        hosts = [("web", "blue", Host("r", "10.0.0.9:80")), ("web", "blue", Host("a", "10.0.0.1:80"))]
        new = web(hosts=[Host("a", "10.0.0.1:80"), Host("r", "10.0.0.9:80"), Host("s", "10.0.0.8:80")])
        (service,) = withoutRegistered([new], hosts, {"web": web()})
        self.assertEqual([h.name for h in service.groups[0].hosts], ["a", "s"])

    def test_writes(self):
        """
        Only changed services are put; removed ones are deleted.
        """
        before = {"web": web(), "old": Service("old", groups=[Group("g")])}
        after = Balancer(services=[web(hosts=[]), Service("new", groups=[Group("g")])])
        puts, deletes = writes(P, before, after)
        self.assertEqual([k for k, _ in puts], ["/txlb/services/web", "/txlb/services/new"])
        self.assertEqual(deletes, ["/txlb/services/old"])
        self.assertEqual(writes(P, {"web": web()}, Balancer(services=[web()])), ([], []))


class StreamTests(SynchronousTestCase):
    """
    The watch stream: JSON objects one after another, cut anywhere.
    """

    def test_cutAnywhere(self):
        """
        Objects split across reads, or several in one read, each arrive
        once, whole.
        """
        got = []

        class Watch:
            received = got.append

        lines = _Lines(Watch)
        text = b'{"result":{"created":true}}\n{"result":{"events":[]}}\n{"result":{"x":1}}'
        for chunk in (text[:5], text[5:40], text[40:]):
            lines.dataReceived(chunk)
        self.assertEqual(len(got), 3)
        self.assertEqual(got[2], {"result": {"x": 1}})


class FlagTests(SynchronousTestCase):
    """
    C{--etcd}, C{--etcd-prefix} and C{Etcd(...)}.
    """

    def test_etcdWithoutBackends(self):
        """
        With C{--etcd}, a node may start with no C{--backend}; its
        description names the cluster (nothing is contacted before start).
        """
        options = Options()
        options.parseOptions(["--listen", "tcp:0:interface=127.0.0.1", "--etcd",
                              "http://127.0.0.1:1,http://127.0.0.1:2", "--etcd-prefix", "/x/"])
        balancer = options.service
        self.assertEqual(balancer.spec.etcd, Etcd(["http://127.0.0.1:1", "http://127.0.0.1:2"], prefix="/x/"))
        self.assertEqual(balancer.store.prefix, "/x/")
        self.assertEqual(balancer.store.status()["state"], "connecting")

    def test_mistakes(self):
        """
        Mistakes are one sentence each.
        """
        for flags, sentence in [
            (["--backend", "127.0.0.1:1", "--etcd-prefix", "/x/"], "--etcd-prefix needs --etcd"),
            (["--etcd", "127.0.0.1:2379"], "etcd endpoints are URLs such as http://127.0.0.1:2379"),
            (["--config", "x.tac", "--etcd", "http://127.0.0.1:2379"], "drop --etcd"),
        ]:
            with self.assertRaises(SystemExit) as e:
                Options().parseOptions(flags)
            self.assertIn(sentence, str(e.exception))

    def test_value(self):
        """
        C{Etcd} takes a list of URLs or one string of them; a bad prefix
        is refused.
        """
        self.assertEqual(Etcd("http://a:1, http://b:2").endpoints, ("http://a:1", "http://b:2"))
        with self.assertRaises(ConfigError):
            Etcd("http://a:1", prefix="")


class AgentArgumentTests(SynchronousTestCase):
    """
    C{txlb heartbeat --etcd} refuses bad arguments with one sentence.
    """

    def test_badArguments(self):
        """
        A URL that is not one, or a TTL under a second, exits 1 with a
        sentence and starts nothing.
        """
        import io
        import sys

        base = ["--service", "web", "--group", "blue", "--name", "r", "--address", "127.0.0.1:1"]
        for extra, sentence in [(["--etcd", "localhost:2379", "--ttl", "5"], "--etcd takes URLs"),
                                (["--etcd", "http://127.0.0.1:2379", "--ttl", "0"], "--ttl is a whole number")]:
            err = io.StringIO()
            self.patch(sys, "stderr", err)
            self.assertEqual(heartbeat(base + extra, reactor=object()), 1)
            self.assertIn(sentence, err.getvalue())
