"""
Unit tests for C{txlb convert} (L{txlb.convert}): what each part of a
pythondirector or txLoadBalancer XML file becomes, the warnings (with their
lines) for what is ignored, one sentence with the line for what cannot be
read, and C{.tac} text that loads into the same balancer whatever the names
in the file hold.
"""

import os
import shutil
import tempfile

from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import SynchronousTestCase

from tests.support import temporaryFile
from txlb.balancer import LoadBalancer
from txlb.builder import Builder
from txlb.config import Ejection
from txlb.convert import convertFile, interpret, readXML, tacSource
from txlb.errors import ConfigError
from txlb.tacfile import loadTac

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pdxml")


def read(text, usersFile="/etc/txlb/users"):
    """
    Convert XML C{text}; return the L{txlb.convert.Conversion}.
    """
    return interpret(readXML(text.encode("utf-8"), "old.xml"), "old.xml", usersFile)


def service(body, name="web"):
    return f'<pdconfig><service name="{name}">{body}</service></pdconfig>'


GROUP = '<group name="g" scheduler="roundrobin"><host name="h" ip="10.0.0.1:80"/></group><enable group="g"/>'


def listenOn(ip):
    (svc,) = read(service(f'<listen ip="{ip}"/>' + GROUP)).balancer.services
    return svc.listen[0]


class FileTests(SynchronousTestCase):
    def test_pythondirector(self):
        """
        finder.xml: both services with their listeners, groups (the old
        scheduler name becomes today's, noted beside it), hosts and enabled
        group; the admin on the users file; each user with the role of their
        access; the log file; a warning with the line for each unknown
        element or attribute.
        """
        conversion, _ = convertFile(os.path.join(DATA, "finder.xml"), "/etc/txlb/users")
        finder, mail = conversion.balancer.services
        self.assertEqual(finder.listen, ("tcp:8080", "tcp:8081:interface=127.0.0.1"))
        self.assertEqual(finder.enabledGroup, "Cluster1")
        self.assertEqual([(g.name, g.scheduler) for g in finder.groups],
                         [("Cluster1", "leastconns"), ("Cluster2", "roundrobin")])
        self.assertEqual(conversion.notes, {("finder", "Cluster1"): "was 'leastconnsrr'"})
        self.assertEqual([(h.name, h.address) for h in finder.groups[0].hosts],
                         [("finder1", "10.0.0.1:80"), ("finder2", "10.0.0.2:80")])
        self.assertEqual(mail.listen, ("tcp:2525",))
        self.assertEqual([h.address for h in mail.groups[0].hosts], ["mx1.example.com:25", "mx2.example.com:25"])
        (admin,) = conversion.balancer.admin
        self.assertEqual((admin.listen, admin.users), (("tcp:8001",), "/etc/txlb/users"))
        self.assertEqual(conversion.users, (("anthony", "admin"), ("guest", "readonly")))
        self.assertEqual(conversion.logFile, "/var/log/pydir.log")
        self.assertEqual(conversion.warnings, (
            "finder.xml, line 15: unknown element <stats> inside <service>; ignored",
            "finder.xml, line 19: unknown attribute 'timeout' of <group>; ignored",
        ))

    def test_oldClientSpelling(self):
        """
        oldclient.xml: <client> is read as <host> (one warning); a host
        without a name is called host.N as pythondirector called it.
        """
        conversion, _ = convertFile(os.path.join(DATA, "oldclient.xml"))
        (group,) = conversion.balancer.services[0].groups
        self.assertEqual([h.name for h in group.hosts], ["www1", "www2", "host.2"])
        self.assertEqual(conversion.warnings,
                         ("oldclient.xml, line 7: <client> is the old spelling of <host>; read as <host>",))
        self.assertEqual(conversion.balancer.admin, ())

    def test_txLoadBalancer(self):
        """
        txloadbalancer.xml: weights, <group enable="true">, the admin's <web>
        (on loopback: it has no users), the manager's host check interval as
        an ejection in every group; <ssh>, <configCheck> and <control> are
        dropped with a warning each.
        """
        conversion, _ = convertFile(os.path.join(DATA, "txloadbalancer.xml"))
        twisted, apache = conversion.balancer.services
        self.assertEqual(twisted.enabledGroup, "servers1")
        self.assertEqual([h.weight for h in twisted.groups[0].hosts], [5, 1, 20])
        self.assertEqual(twisted.groups[0].hosts[2].address, "[::1]:7003")
        self.assertEqual([g.scheduler for g in (*twisted.groups, *apache.groups)],
                         ["roundrobin", "leastconns", "roundrobin"])
        self.assertEqual({g.ejection for g in (*twisted.groups, *apache.groups)},
                         {Ejection(failures=1, time=30.0, maxTime=30.0)})
        self.assertEqual(apache.listen, ("tcp6:9080",))
        (admin,) = conversion.balancer.admin
        self.assertEqual((admin.listen, admin.users, admin.refresh), (("tcp:7000:interface=127.0.0.1",), None, 10.0))
        dropped = [w for w in conversion.warnings if "is dropped" in w]
        self.assertEqual([w.split(":")[0] for w in dropped],
                         ["txloadbalancer.xml, line 22", "txloadbalancer.xml, line 26",
                          "txloadbalancer.xml, line 28"])

    def test_everyFileLoads(self):
        """
        The .tac text of every well-formed test file loads (memory reactor)
        into a balancer with the services, groups and hosts converted.
        """
        users = temporaryFile(self, "", suffix=".users")
        for name in ("finder", "oldclient", "txloadbalancer"):
            conversion, text = convertFile(os.path.join(DATA, name + ".xml"), users)
            top = loadTac(temporaryFile(self, text), Builder(MemoryReactorClock()))
            (balancer,) = [s for s in top if isinstance(s, LoadBalancer)]
            for spec in conversion.balancer.services:
                proxy = balancer.proxies[spec.name]
                self.assertEqual([l.description for l in proxy.listeners], list(spec.listen))
                self.assertEqual(proxy.enabledGroup, spec.enabledGroup)
                for group in spec.groups:
                    pool = proxy.pools[group.name]
                    self.assertEqual(pool.schedulerSpec, group.scheduler)
                    self.assertEqual({n: (h.address, h.weight) for n, h in pool.hosts.items()},
                                     {h.name: (h.address, h.weight) for h in group.hosts})


class MappingTests(SynchronousTestCase):
    def test_listen(self):
        """
        pythondirector's host:port becomes an endpoint: every interface
        (*, empty, 0.0.0.0, [::]) listens without interface=, localhost on
        127.0.0.1, IPv6 addresses escaped; endpoint strings pass through.
        """
        for ip, endpoint in [
            ("*:80", "tcp:80"), (":80", "tcp:80"), ("0.0.0.0:80", "tcp:80"),
            ("127.0.0.1:8080", "tcp:8080:interface=127.0.0.1"), ("localhost:81", "tcp:81:interface=127.0.0.1"),
            ("[::]:80", "tcp6:80"), ("[::1]:80", "tcp6:80:interface=\\:\\:1"),
            ("lb.example.com:80", "tcp:80:interface=lb.example.com"), ("unix:/run/lb.sock", "unix:/run/lb.sock"),
        ]:
            self.assertEqual(listenOn(ip), endpoint, ip)

    def test_secureAdmin(self):
        """
        secure= makes the admin serve HTTPS from server.pem (as pythondirector
        did), with a warning to point it at the real files; secure="false"
        does not.
        """
        conversion = read(service('<listen ip="*:80"/>' + GROUP)[:-len("</pdconfig>")]
                          + '<admin listen="127.0.0.1:8001" secure="yes"/></pdconfig>')
        self.assertEqual(conversion.balancer.admin[0].listen,
                         ("ssl:8001:privateKey=server.pem:interface=127.0.0.1",))
        self.assertIn("server.pem", conversion.warnings[0])
        conversion = read(service('<listen ip="*:80"/>' + GROUP)[:-len("</pdconfig>")]
                          + '<admin listen="127.0.0.1:8001" secure="false"/></pdconfig>')
        self.assertEqual(conversion.balancer.admin[0].listen, ("tcp:8001:interface=127.0.0.1",))

    def test_adminWithoutUsersMovesToLoopback(self):
        """
        An admin on every interface without users would be open to anyone:
        it listens on 127.0.0.1 instead, with a warning saying so.
        """
        conversion = read(service('<listen ip="*:80"/>' + GROUP)[:-len("</pdconfig>")]
                          + '<admin listen="*:8001"/></pdconfig>')
        self.assertEqual(conversion.balancer.admin[0].listen, ("tcp:8001:interface=127.0.0.1",))
        self.assertEqual(conversion.balancer.admin[0].users, None)
        self.assertIn("loopback only", conversion.warnings[0])

    def test_users(self):
        """
        access="full" is the admin role, "readonly" the readonly one,
        anything else readonly with a warning; a name txlb passwd refuses
        is left out with a warning.
        """
        users = "".join(f'<user name="{n}" password="xxCRYPTxxxxxx" access="{a}"/>'
                        for n, a in [("root", "full"), ("ro", "readonly"), ("odd", "superuser"), ("a:b", "full")])
        conversion = read(service('<listen ip="*:80"/>' + GROUP)[:-len("</pdconfig>")]
                          + f'<admin listen="*:8001">{users}</admin></pdconfig>')
        self.assertEqual(conversion.users, (("root", "admin"), ("ro", "readonly"), ("odd", "readonly")))
        self.assertEqual(len(conversion.warnings), 2)

    def test_duplicatesAndEnable(self):
        """
        A second host or group of the same name replaces the first (as in
        pythondirector), with a warning; without <enable> the first group is
        enabled, with a warning.
        """
        conversion = read(service(
            '<listen ip="*:80"/><group name="g" scheduler="roundrobin"><host name="h" ip="10.0.0.1:80"/>'
            '<host name="h" ip="10.0.0.2:80"/></group><group name="k" scheduler="random"/>'))
        (svc,) = conversion.balancer.services
        self.assertEqual([h.address for h in svc.groups[0].hosts], ["10.0.0.2:80"])
        self.assertEqual(svc.enabledGroup, "g")
        self.assertEqual(len(conversion.warnings), 3)

    def test_aliases(self):
        """
        Every old scheduler name txlb knows becomes today's name, noted.
        """
        for old, new in [("leastconnsrr", "leastconns"), ("leastc", "leastconns"), ("rand", "random"),
                         ("roundr", "roundrobin"), ("weightr", "roundrobin"), ("random", "random")]:
            conversion = read(service(f'<listen ip="*:80"/><group name="g" scheduler="{old}"/>'))
            self.assertEqual(conversion.balancer.services[0].groups[0].scheduler, new)
            self.assertEqual(bool(conversion.notes), old != new)


class ErrorTests(SynchronousTestCase):
    def assertSentence(self, text, line, words):
        with self.assertRaises(ConfigError) as caught:
            read(text)
        message = str(caught.exception)
        self.assertTrue(message.startswith(f"old.xml, line {line}: "), message)
        self.assertIn(words, message)
        self.assertNotIn("\n", message)

    def test_malformed(self):
        """
        Malformed XML is one sentence with the line (the test file's
        mismatched tag is on line 7).
        """
        with self.assertRaises(ConfigError) as caught:
            convertFile(os.path.join(DATA, "malformed.xml"))
        self.assertEqual(str(caught.exception), "malformed.xml, line 7: malformed XML: mismatched tag")
        self.assertSentence("<pdconfig>\n<service>\n", 3, "malformed XML")

    def test_unsafe(self):
        """
        Entity declarations and references to outside files are refused,
        never expanded or read.
        """
        self.assertSentence('<?xml version="1.0"?>\n<!DOCTYPE p [<!ENTITY a "x">]>\n<pdconfig/>', 2, "entity 'a'")
        self.assertSentence('<!DOCTYPE pdconfig SYSTEM "/etc/passwd">\n<pdconfig/>', 1, "'/etc/passwd'")

    def test_meaningless(self):
        """
        What cannot become a balancer is one sentence with the line.
        """
        for text, line, words in [
            ("<config2/>", 1, "expected <pdconfig>"),
            ("<pdconfig>\n</pdconfig>", 1, "holds no <service>"),
            (service('\n<listen ip="*:eighty"/>' + GROUP), 2, "not host:port"),
            (service(GROUP), 1, "has no <listen"),
            (service('<listen ip="*:80"/>'), 1, "has no <group>"),
            (service('<listen ip="*:80"/>' + GROUP.replace('"g"/>', '"nosuch"/>')), 1, "'nosuch'"),
            (service('<listen ip="*:80"/>\n<group name="g" scheduler="fastest"/>'), 2, "unknown scheduler 'fastest'"),
            (service('<listen ip="*:80"/>\n<group name="g"/>'), 2, 'needs scheduler="roundrobin"'),
            (service('<listen ip="*:80"/><group name="g" scheduler="random">\n<host ip="nowhere"/></group>'), 2,
             "not host:port"),
            (service('<listen ip="*:80"/><group name="g" scheduler="random">\n'
                     '<host ip="10.0.0.1:80" weight="-1"/></group>'), 2, "whole number of at least 0"),
        ]:
            self.assertSentence(text, line, words)


class SafetyTests(SynchronousTestCase):
    def test_namesCannotBecomeCode(self):
        """
        Quotes, newlines and comment marks in names, addresses and the log
        file stay data: the .tac loads into a balancer with exactly those
        names and runs nothing else.
        """
        directory = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, directory)
        marker = os.path.join(directory, "marker")
        evil = f"x')&#10;open({marker!r}, 'w')#"
        text = (f'<pdconfig><service name="{evil}"><listen ip="127.0.0.1:0"/>'
                f'<group name="g&#10;h" scheduler="random"><host name="{evil}" ip="10.0.0.1:80"/></group>'
                f'</service><logging file="/tmp/a&#10;open({marker!r}, \'w\')"/></pdconfig>')
        conversion = read(text)
        source = tacSource(conversion, "old&#10;.xml\nimport os")
        top = loadTac(temporaryFile(self, source), Builder(MemoryReactorClock()))
        self.assertFalse(os.path.exists(marker))
        (balancer,) = [s for s in top if isinstance(s, LoadBalancer)]
        name = f"x')\nopen({marker!r}, 'w')#"
        self.assertEqual(list(balancer.proxies), [name])
        self.assertEqual(list(balancer.proxies[name].pools["g\nh"].hosts), [name])


class DocTests(SynchronousTestCase):
    def blocks(self):
        """
        The XML and the .tac side by side in doc/migration.rst.
        """
        import re
        import textwrap

        path = os.path.join(os.path.dirname(DATA), os.pardir, "doc", "migration.rst")
        with open(path) as f:
            text = f.read()
        found = re.findall(r"\.\. code-block:: (?:xml|python)\n\n((?:\s{10}.*\n|\n)+?)(?=\n\s{0,5}\S)", text)
        return [textwrap.dedent(block).strip() + "\n" for block in found[:2]]

    def test_sideBySide(self):
        """
        The .tac doc/migration.rst shows is what txlb convert prints for the
        XML beside it.
        """
        xml, tac = self.blocks()
        directory = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, directory)
        path = os.path.join(directory, "pydir.xml")
        with open(path, "w") as f:
            f.write(xml)
        conversion, text = convertFile(path, "/etc/txlb/users", legacyWebAPI=True)
        self.assertEqual(text, tac)
        (warning,) = conversion.warnings
        with open(os.path.join(os.path.dirname(DATA), os.pardir, "doc", "migration.rst")) as f:
            self.assertIn("txlb convert: warning: " + warning, f.read())
