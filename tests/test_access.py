"""
Unit tests for L{txlb.access}: allow and deny lists of networks.
"""

from twisted.trial.unittest import SynchronousTestCase

from txlb.access import AccessList, parseNetwork


class AccessListTests(SynchronousTestCase):
    def test_emptyAcceptsEveryone(self):
        """
        Without lists, every client is accepted.
        """
        access = AccessList()
        self.assertTrue(access.empty)
        self.assertTrue(access.permits("203.0.113.9"))

    def test_allowOnly(self):
        """
        With an allow list, only clients inside one of its networks are
        accepted.
        """
        access = AccessList(allow=["10.0.0.0/8", "192.0.2.7"])
        self.assertTrue(access.permits("10.200.1.1"))
        self.assertTrue(access.permits("192.0.2.7"))
        self.assertFalse(access.permits("192.0.2.8"))
        self.assertFalse(access.permits("::1"))

    def test_denyWins(self):
        """
        A denied network is refused even inside an allowed one.
        """
        access = AccessList(allow=["10.0.0.0/8"], deny=["10.1.0.0/16"])
        self.assertTrue(access.permits("10.2.0.1"))
        self.assertFalse(access.permits("10.1.0.1"))

    def test_denyOnly(self):
        """
        With a deny list only, everyone outside it is accepted.
        """
        access = AccessList(deny="127.0.0.2")
        self.assertFalse(access.permits("127.0.0.2"))
        self.assertTrue(access.permits("127.0.0.1"))

    def test_ipv6AndMapped(self):
        """
        IPv6 networks match IPv6 clients; an IPv4-mapped client matches
        the IPv4 network it carries.
        """
        access = AccessList(allow=["2001:db8::/32", "10.0.0.0/8"])
        self.assertTrue(access.permits("2001:db8::1"))
        self.assertTrue(access.permits("::ffff:10.0.0.5"))
        self.assertFalse(access.permits("2001:db9::1"))

    def test_nonIPClients(self):
        """
        A client without an IP address (a UNIX socket) is accepted: the
        socket file's permissions decide who may connect.
        """
        self.assertTrue(AccessList(allow=["10.0.0.0/8"]).permits(None))

    def test_badNetwork(self):
        """
        A network that is not one is refused with a sentence naming it.
        """
        e = self.assertRaises(ValueError, parseNetwork, "10.0.0.0/33")
        self.assertIn("'10.0.0.0/33' is not a network", str(e))
        self.assertRaises(ValueError, parseNetwork, 10)

    def test_hostBitsAllowed(self):
        """
        A network written with host bits set (10.1.2.3/8) means its network.
        """
        self.assertEqual(str(parseNetwork("10.1.2.3/8")), "10.0.0.0/8")
