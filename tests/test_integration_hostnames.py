"""
A backend named by host name, as users run it: a real twistd asking a
real DNS server (C{twistd dns} on 127.0.0.1) given with C{--dns}.
"""

import json
import socket
import urllib.request
import xmlrpc.client

from twisted.trial.unittest import SynchronousTestCase

from tests.support import TWISTD, Process, request, startBackend, startTwistd, temporaryFile

ZONE = """
zone = [
    SOA('test', mname='ns.test', rname='root.test', serial=1, refresh=60, retry=60, expire=60, minimum=60),
    A('app.test', '127.0.0.2', ttl=60),
    A('app.test', '127.0.0.1', ttl=60),
]
"""


def freePort():
    """
    A port the OS gave for TCP and took back (the DNS server takes UDP and
    TCP on it).
    """
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class HostNameTests(SynchronousTestCase):
    """
    C{--dns} and a backend written C{NAME:PORT}.
    """

    def startDNS(self):
        port = freePort()
        zone = temporaryFile(self, ZONE, suffix=".py")
        server = Process(TWISTD + ["-n", "--pidfile=", "--logfile=-", "dns", "--pyzone", zone,
                                   "-p", str(port), "-i", "127.0.0.1"])
        self.addCleanup(server.stop)
        server.waitFor("DNSDatagramProtocol starting on")
        return f"127.0.0.1:{port}"

    def status(self, admin):
        with urllib.request.urlopen("http://%s:%d/status.json" % admin, timeout=10) as answer:
            return json.load(answer)

    def test_everyAddressTried(self):
        """
        The name resolves to two addresses, the first refusing: every
        connection reaches the backend on the second address of the same
        host, the host is never counted as failed, and the status shows
        both addresses.
        """
        backend = startBackend(self)
        server = self.startDNS()
        process, address = startTwistd(self, [
            "txlb", "--listen", "tcp:0:interface=127.0.0.1", "--dns", server,
            "--backend", f"app=app.test:{backend.port}", "--admin", "tcp:0:interface=127.0.0.1",
        ])
        admin = process.address("admin")
        for i in range(5):
            self.assertEqual(request(address, b"hello %d" % i), b"hello %d" % i)
        process.waitFor(r"app.test resolves to 127.0.0.2, 127.0.0.1")
        rpc = xmlrpc.client.ServerProxy("http://%s:%d/RPC2" % admin)
        host = rpc.getStatus()["default"]["groups"]["default"]["hosts"]["app"]
        self.assertEqual(host["resolved"], ["127.0.0.2", "127.0.0.1"])
        self.assertEqual(host["failed"], 0)
        with urllib.request.urlopen("http://%s:%d/" % admin, timeout=10) as page:
            self.assertIn(b"127.0.0.2, 127.0.0.1", page.read())

    def test_localhost(self):
        """
        A name from /etc/hosts (C{localhost}) keeps working with no DNS
        server to ask.
        """
        backend = startBackend(self)
        process, address = startTwistd(self, [
            "txlb", "--listen", "tcp:0:interface=127.0.0.1", "--dns", "127.0.0.1:1",
            "--backend", f"localhost:{backend.port}",
        ])
        self.assertEqual(request(address, b"hi"), b"hi")
