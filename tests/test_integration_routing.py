"""
Routing as users run it: a real twistd in front of real TLS backends (each
with its own certificate, the handshake end to end with the backend,
verified by the client), routes on the server name and the client's
address, a Python router in a .tac, the admin's view of the routes, and
the same with C{--workers 2}.
"""

import json
import os
import socket
import ssl
import urllib.request
import xmlrpc.client

from twisted.trial.unittest import SynchronousTestCase

from tests.support import ROOT, TXLB, Process, name, request, selfSigned, startBackend, startTwistd, temporaryFile
from tests.test_integration_admin import adminURL
from tests.test_integration_process import tacCopy

TAC = """
from txlb.config import Admin, Balancer, Group, Host, Route, Service
from txlb.tac import application

{router}

application = application(Balancer(
    services=[Service(
        "web",
        listen=["tcp:0:interface=127.0.0.1"],
        groups=[
            Group("a", hosts=[Host("a1", "{a}")]),
            Group("b", hosts=[Host("b1", "{b}")]),
            Group("c", hosts=[Host("c1", "{c}")]),
        ],
        routes={routes},
        router={routerName},
        helloTimeout=1.0,
    )],
    admin=[Admin(["tcp:0:interface=127.0.0.1"])],
))
"""

ROUTES = '[Route("b", sni="b.test"), Route("a", sni="a.test"), Route("c", source="127.0.0.2")]'

ROUTER = '''
def router(connection):
    if connection.sni == "boom.test":
        raise RuntimeError("router bug")
    if connection.sni == "nowhere.test":
        return "nope"
    if connection.sni == "b.test":
        return "b"
    return None
'''


def tlsOrPlain(certificate):
    """
    A backend behaviour: a client whose first byte opens a TLS handshake
    gets a TLS server with C{certificate} (key and certificate paths) that
    sends the backend's name; any other client gets C{NAME plain}.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate[1], certificate[0])

    def behaviour(sock, server):
        first = sock.recv(1, socket.MSG_PEEK)
        if first != b"\x16":
            name(sock, type("S", (), {"name": server.name + " plain"})())
            return
        try:
            tls = context.wrap_socket(sock, server_side=True)
        except (ssl.SSLError, OSError):
            return
        with tls:
            tls.sendall(server.name.encode() + b"\n")
            try:
                tls.recv(1)
            except (ssl.SSLError, OSError):
                pass

    return behaviour


def tlsRequest(address, serverName, certificate, source=None, checkName=True):
    """
    Connect with TLS, asking for C{serverName} (None: no SNI), trusting only
    C{certificate} (and checking that it is for C{serverName} unless told
    not to); return the line the backend sends.
    """
    context = ssl.create_default_context(cafile=certificate[1])
    if serverName is None or not checkName:
        context.check_hostname = False
    sourceAddress = (source, 0) if source else None
    with socket.create_connection(address, timeout=10, source_address=sourceAddress) as raw:
        with context.wrap_socket(raw, server_hostname=serverName) as tls:
            line = b""
            while not line.endswith(b"\n"):
                data = tls.recv(100)
                if not data:
                    break
                line += data
            return line


class RoutingCase(SynchronousTestCase):
    routes = ROUTES
    router = ""
    routerName = "None"
    workers = ()

    def setUp(self):
        self.certA = selfSigned(self, "a.test")
        self.certB = selfSigned(self, "b.test")
        self.a = startBackend(self, tlsOrPlain(self.certA), "A")
        self.b = startBackend(self, tlsOrPlain(self.certB), "B")
        self.c = startBackend(self, name, "C")
        tac = temporaryFile(self, TAC.format(
            a=self.a.address, b=self.b.address, c=self.c.address,
            routes=self.routes, router=self.router, routerName=self.routerName,
        ))
        self.process, self.address = startTwistd(
            self, ["txlb", *self.workers, "--config", tac], service="web"
        )
        self.rpc = xmlrpc.client.ServerProxy(adminURL(self.process))


class PassthroughTests(RoutingCase):
    def test_serverNames(self):
        """
        Clients asking for a.test and b.test each complete the TLS handshake
        with their own backend (its certificate verified for that name).
        """
        for _ in range(3):
            self.assertEqual(tlsRequest(self.address, "a.test", self.certA), b"A\n")
            self.assertEqual(tlsRequest(self.address, "b.test", self.certB), b"B\n")

    def test_noNameAndPlain(self):
        """
        A TLS client without a server name, and a plain-TCP client, reach
        the enabled group.
        """
        self.assertEqual(tlsRequest(self.address, None, self.certA), b"A\n")
        self.assertEqual(request(self.address, b"hello"), b"A plain\n")

    def test_source(self):
        """
        A source route sends 127.0.0.2 elsewhere than 127.0.0.1.
        """
        self.assertEqual(request(self.address, b"x", source="127.0.0.2"), b"C\n")
        self.assertEqual(request(self.address, b"x", source="127.0.0.1"), b"A plain\n")

    def test_admin(self):
        """
        getRoutes lists the routes in order; getStatus, /metrics and the
        status page count each route's connections and bytes.
        """
        self.assertEqual(
            [(r["route"], r["group"], r["match"]) for r in self.rpc.getRoutes("web")],
            [("b", "b", "sni=b.test"), ("a", "a", "sni=a.test"), ("c", "c", "source=127.0.0.2/32"),
             ("default", "", "anything else: the enabled group")],
        )
        tlsRequest(self.address, "b.test", self.certB)
        tlsRequest(self.address, "b.test", self.certB)
        request(self.address, b"x")
        routes = self.rpc.getStatus()["web"]["routes"]
        self.assertEqual(routes["b"]["connections"], 2)
        self.assertGreater(routes["b"]["bytesIn"], 0)
        self.assertGreater(routes["b"]["bytesOut"], 0)
        self.assertEqual(routes["default"]["connections"], 1)
        metrics = urllib.request.urlopen(adminURL(self.process, "/metrics"), timeout=10).read().decode()
        self.assertIn('txlb_route_connections_total{group="b",route="b",service="web"} 2.0', metrics)
        page = urllib.request.urlopen(adminURL(self.process, "/"), timeout=10).read().decode()
        self.assertIn("sni=b.test", page)
        ctl = Process([TXLB[0], "-c", "import sys; from txlb.admin.ctl import main; sys.exit(main())",
                       "--url", adminURL(self.process), "routes", "web"])
        self.assertEqual(ctl.wait(), 0, ctl.output)
        self.assertEqual(
            [line.split()[:3] for line in ctl.output.splitlines()],
            [["ROUTE", "GROUP", "MATCH"], ["b", "b", "sni=b.test"], ["a", "a", "sni=a.test"],
             ["c", "c", "source=127.0.0.2/32"], ["default", "(enabled)", "anything"]],
        )


class RouterTests(RoutingCase):
    routes = "[]"
    router = ROUTER
    routerName = "router"

    def test_routerDecides(self):
        """
        The .tac's Python router sends b.test to group b; its None sends
        other names to the enabled group.
        """
        self.assertEqual(tlsRequest(self.address, "b.test", self.certB), b"B\n")
        self.assertEqual(tlsRequest(self.address, "a.test", self.certA), b"A\n")

    def test_routerRaises(self):
        """
        A router that raises, or names a group that does not exist, sends
        the client to the enabled group; the service goes on serving and
        logs what the router did (one line per burst).
        """
        for _ in range(3):
            self.assertEqual(tlsRequest(self.address, "boom.test", self.certA, checkName=False), b"A\n")
        self.assertEqual(tlsRequest(self.address, "nowhere.test", self.certA, checkName=False), b"A\n")
        self.assertEqual(tlsRequest(self.address, "b.test", self.certB), b"B\n")
        # One line per second at most: the first is the raise.
        self.process.waitFor(r"the router raised RuntimeError: router bug for client 127\.0\.0\.1:\d+")


class WorkersTests(RoutingCase):
    workers = ("--workers", "2")

    def test_routedInEachWorker(self):
        """
        With two worker processes, every connection is routed by the worker
        that accepts it, and getStatus sums the routes' counters over both.
        """
        self.process.waitFor(r"worker 1 \(pid \d+\) is serving")
        for _ in range(20):
            self.assertEqual(tlsRequest(self.address, "b.test", self.certB), b"B\n")
            self.assertEqual(tlsRequest(self.address, "a.test", self.certA), b"A\n")
        workers = self.rpc.getWorkers()
        self.assertTrue(all(w["accepted"] > 0 for w in workers), json.dumps(workers))
        routes = self.rpc.getStatus()["web"]["routes"]
        self.assertEqual((routes["a"]["connections"], routes["b"]["connections"]), (20, 20))


class ExampleTacTests(SynchronousTestCase):
    def test_passthroughTac(self):
        """
        tacs/passthrough.tac runs: shop.example.com reaches the shop group,
        names under api.example.com the api group, anything else www.
        """
        shop = selfSigned(self, "shop.example.com")
        api = selfSigned(self, "v1.api.example.com")
        www = selfSigned(self, "www.example.com")
        backends = {
            "127.0.0.1:9343": startBackend(self, tlsOrPlain(www), "www"),
            "127.0.0.1:9443": startBackend(self, tlsOrPlain(shop), "shop1"),
            "127.0.0.1:9444": startBackend(self, tlsOrPlain(shop), "shop2"),
            "127.0.0.1:9543": startBackend(self, tlsOrPlain(api), "api"),
            "127.0.0.1:9643": startBackend(self, name, "internal"),
        }
        replacements = {old: b.address for old, b in backends.items()}
        replacements.update({"tcp:8443:": "tcp:0:", "tcp:8001:": "tcp:0:"})
        path = tacCopy(self, "passthrough.tac", replacements)
        process, address = startTwistd(self, ["txlb", "--config", path], service="web")
        shops = {tlsRequest(address, "shop.example.com", shop) for _ in range(5)}
        self.assertEqual(len(shops), 1)
        self.assertIn(shops.pop(), (b"shop1\n", b"shop2\n"))
        self.assertEqual(tlsRequest(address, "v1.api.example.com", api), b"api\n")
        self.assertEqual(tlsRequest(address, "www.example.com", www), b"www\n")
        self.assertEqual(request(address, b"x"), b"www plain\n")

    def test_docShowsTheTac(self):
        """
        doc/routing.rst shows tacs/passthrough.tac's code as it is.
        """
        with open(os.path.join(ROOT, "doc", "routing.rst")) as f:
            doc = f.read()
        with open(os.path.join(ROOT, "tacs", "passthrough.tac")) as f:
            tac = f.read()
        shown = doc[doc.index("    from txlb.config import Admin") : doc.index("Run it with ``twistd")]
        code = "\n".join(line[4:] for line in shown.splitlines()).strip()
        self.assertEqual(code, tac[tac.index("from txlb.config") :].strip())
