"""
An example third-party router, published as a Twisted plugin: put this
folder (tacs/plugins) on PYTHONPATH and ``Service(..., router="alpn-h2")``
finds it.

``alpn-h2`` sends clients that offer HTTP/2 in their TLS ClientHello to the
service's group named ``h2``, and leaves every other client to the
service's routes (a small policy, but a complete plugin).
"""

from twisted.plugin import IPlugin
from zope.interface import implementer

from txlb.interfaces import IRouter


@implementer(IPlugin, IRouter)
class ALPNRouter:
    """
    Clients offering C{h2} go to group C{h2}.
    """

    name = "alpn-h2"
    description = "example plugin: clients offering HTTP/2 (ALPN h2) to group h2"
    needsHello = True

    def route(self, connection):
        return "h2" if "h2" in connection.alpn else None


alpnH2 = ALPNRouter()
