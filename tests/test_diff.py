"""
Tests for L{txlb.diff}, L{txlb.plain} and L{txlb.tacwriter}: the
difference between two descriptions as admin calls, plain data, and .tac
source.
"""

import attr
from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from txlb.config import Admin, Balancer, Ejection, Group, HealthCheck, Host, Route, Service
from txlb.diff import Change, applyChanges, canonical, diff, enabledOf
from txlb.errors import ConfigError
from txlb.plain import fromPlain, toPlain
from txlb.tacwriter import tacSource

NAMES = st.sampled_from(["a", "b", "c", "d"])

hosts = st.builds(
    Host,
    name=NAMES,
    address=st.sampled_from(["127.0.0.1:1", "127.0.0.1:2", "[::1]:3", "unix:/run/x.sock"]),
    weight=st.integers(0, 5),
    backup=st.booleans(),
    maxconn=st.none() | st.integers(1, 10),
)

groups = st.builds(
    Group,
    name=NAMES,
    scheduler=st.sampled_from(["roundrobin", "leastconns", "hash:load=1.25"]),
    hosts=st.lists(hosts, max_size=4, unique_by=lambda h: h.name),
    queueSize=st.integers(0, 300),
    check=st.none() | st.builds(HealthCheck, kind=st.sampled_from(["tcp", "http:/"]), rise=st.integers(1, 4)),
    ejection=st.none() | st.just(Ejection()) | st.builds(Ejection, failures=st.integers(1, 5)),
    slowStart=st.none() | st.floats(1, 30),
    allDown=st.sampled_from(["refuse", "panic"]),
)


@st.composite
def services(draw):
    gs = draw(st.lists(groups, min_size=1, max_size=3, unique_by=lambda g: g.name))
    enabled = draw(st.none() | st.sampled_from([g.name for g in gs]))
    return Service(
        draw(NAMES),
        listen=draw(st.lists(st.sampled_from(["tcp:1", "tcp:2", "unix:/run/lb"]), unique=True, max_size=2)),
        groups=gs,
        enabledGroup=enabled,
        connectTimeout=draw(st.sampled_from([1.0, 5.0])),
        idleTimeout=draw(st.none() | st.just(30.0)),
        splice=draw(st.booleans()),
    )


balancers = st.builds(
    Balancer,
    services=st.lists(services(), max_size=3, unique_by=lambda s: s.name),
    admin=st.just(()) | st.just((Admin("tcp:8001:interface=127.0.0.1"),)),
)


def _hostsOfEnabled(balancer):
    return {s.name: len([g for g in s.groups if g.name == enabledOf(s)][0].hosts) for s in balancer.services}


class DiffTests(SynchronousTestCase):
    @settings(max_examples=300, deadline=None)
    @given(balancers, balancers)
    def test_applyingTheDiffGivesTheTarget(self, a, b):
        """
        Applying the changes of diff(A, B) to A gives a description that
        runs as B does, and then nothing differs any more.
        """
        result = applyChanges(a, diff(a, b))
        self.assertEqual(canonical(result), canonical(b))
        self.assertEqual(diff(result, b), [])

    @settings(max_examples=300, deadline=None)
    @given(balancers, balancers)
    def test_neverWithoutHosts(self, a, b):
        """
        A service whose enabled group has hosts before and after the change
        has hosts in its enabled group after every single change.
        """
        before, after = _hostsOfEnabled(a), _hostsOfEnabled(b)
        keep = {name for name in before if before[name] and after.get(name)}
        current = a
        for change in diff(a, b):
            current = applyChanges(current, [change])
            now = _hostsOfEnabled(current)
            for name in keep:
                self.assertTrue(now[name], f"{name} has no hosts after {change}")

    @given(balancers)
    def test_nothingAgainstItself(self, a):
        """
        A description differs in nothing from itself, nor from its own
        plain form read back.
        """
        self.assertEqual(diff(a, a), [])
        self.assertEqual(fromPlain(Balancer, toPlain(a)), a)

    @settings(max_examples=100, deadline=None)
    @given(balancers)
    def test_tacSourceRoundTrips(self, a):
        """
        The .tac source written for a description makes an equal one.
        """
        namespace = {}
        source = tacSource(a).replace("from txlb.tac import application", "application = lambda b: b")
        exec(source, namespace)
        self.assertEqual(namespace["application"], a)

    def test_order(self):
        """
        New hosts come before removed ones, a new group before it is
        enabled, and a removed service last.
        """
        a = Balancer(services=[
            Service("web", listen="tcp:1", groups=[Group("blue", hosts=[Host("a", "127.0.0.1:1")])]),
            Service("old", listen="tcp:2", groups=[Group("g")]),
        ])
        b = Balancer(services=[
            Service("web", listen="tcp:1", enabledGroup="green", groups=[
                Group("blue", hosts=[Host("b", "127.0.0.1:2", backup=True)]),
                Group("green", hosts=[Host("c", "127.0.0.1:3")]),
            ]),
        ])
        methods = [c.method for c in diff(a, b)]
        self.assertEqual(methods, ["addHost", "addGroup", "enableGroup", "delHost", "delService"])

    def test_command(self):
        """
        A change is shown as the txlbctl command making it, structs as
        JSON, each word quoted for a shell.
        """
        change = Change("addHost", ["web", "blue", "b", "127.0.0.1:2", {"backup": True, "weight": 1}])
        self.assertEqual(
            change.command(),
            "txlbctl add-host web blue b 127.0.0.1:2 '{\"backup\":true,\"weight\":1}'",
        )

    def test_noneAsFalse(self):
        """
        A field that is None where None is not its default (no ejection)
        is written false and read back as None; a None default is left
        out.
        """
        group = Group("g", ejection=None)
        data = toPlain(group)
        self.assertIs(data["ejection"], False)
        self.assertNotIn("check", data)
        self.assertEqual(fromPlain(Group, data), group)

    def test_unknownField(self):
        """
        Plain data with a field the class does not have is refused with a
        sentence naming it.
        """
        with self.assertRaises(ConfigError) as e:
            fromPlain(Host, {"name": "a", "address": "x:1", "wieght": 2})
        self.assertIn("'wieght'", str(e.exception))

    def test_legacyCalls(self):
        """
        The older admin calls change the description too.
        """
        a = Balancer(services=[Service("web", listen="tcp:1", groups=[Group("blue")])])
        b = applyChanges(a, [
            Change("addHost", ["web", "blue", "a", "127.0.0.1:1", 3]),
            Change("setWeight", ["web", "blue", "a", 4]),
            Change("newGroup", ["web", "green", "leastconns"]),
            Change("changeScheduler", ["web", "green", "hash"]),
            Change("newService", ["api", ["tcp:2"]]),
        ])
        web, api = b.services
        self.assertEqual(web.groups[0].hosts, (Host("a", "127.0.0.1:1", weight=4),))
        self.assertEqual(web.groups[1], Group("green", scheduler="hash"))
        self.assertEqual(api, Service("api", listen=["tcp:2"], groups=[Group("default")]))
        self.assertEqual(attr.evolve(b, services=[web]), applyChanges(b, [Change("delService", ["api"])]))


class RoutesTests(SynchronousTestCase):
    def test_routesRoundTrip(self):
        """
        A service's routes (a route's name defaults to its group's) go to
        plain data and back, and into a .tac that builds the same
        description; a changed route is a difference.
        """
        groups = [Group("g", hosts=[Host("a", "127.0.0.1:1")]), Group("h")]
        routes = [Route("h", sni="x.test"), Route("g", source="10.0.0.0/8", name="internal")]
        balancer = Balancer(services=[Service("s", listen=["tcp:0"], groups=groups, routes=routes)])
        self.assertEqual(fromPlain(Balancer, toPlain(balancer)), balancer)
        namespace = {}
        exec(compile(tacSource(balancer).replace("application = application(", "described = ("), "t", "exec"),
             namespace)
        self.assertEqual(namespace["described"], balancer)
        changed = attr.evolve(balancer, services=[attr.evolve(balancer.services[0], routes=routes[:1])])
        self.assertNotEqual(diff(balancer, changed), [])
