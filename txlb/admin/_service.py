"""
The admin service: the XML-RPC API, the status page and the metrics on
one or more endpoints, behind HTTP Basic auth when a users file is given.
"""

import ipaddress

from twisted.application.service import MultiService
from twisted.cred.portal import Portal
from twisted.logger import Logger
from twisted.web.guard import BasicCredentialFactory, HTTPAuthSessionWrapper
from twisted.web.resource import Resource
from twisted.web.server import Site

from txlb.address import listenEndpoint
from txlb.admin._api import AdminAPI
from txlb.admin._legacy import installLegacyWebAPI
from txlb.admin._metrics import MetricsResource
from txlb.admin._page import StatusPage, Stylesheet
from txlb.admin._rpc import AdminRPC
from txlb.admin._users import AdminRealm, UserFile, UserFileChecker
from txlb.errors import ConfigError
from txlb.listener import Listener


_METHODS = (b"GET", b"HEAD", b"POST")


class _NotAllowed(Resource):
    isLeaf = True

    def render(self, request):
        request.setResponseCode(405)
        request.setHeader(b"Allow", b", ".join(_METHODS))
        return b"method not allowed\n"


class _Root(Resource):
    """
    The admin's root: HTTP methods other than GET, HEAD and POST get 405.
    """

    def getChildWithDefault(self, path, request):
        if request.method not in _METHODS:
            return _NotAllowed()
        return Resource.getChildWithDefault(self, path, request)


def isLocal(endpoint):
    """
    True when a server endpoint only accepts connections from this machine:
    a UNIX socket, or TCP bound to a loopback interface.
    """
    if not hasattr(endpoint, "_interface"):
        return hasattr(endpoint, "_address")
    interface = endpoint._interface
    if interface in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(interface).is_loopback
    except ValueError:
        return False


class AdminService(MultiService):
    """
    Serves the admin on each endpoint of C{listen}.

    Without C{users} (a password file) every endpoint must be local
    (loopback or a UNIX socket); with it every request needs a user's
    credentials, and C{readonly} users cannot change anything.
    """

    log = Logger()

    def __init__(self, balancer, listen, builder, users=None, refresh=10.0, projectURL=None,
                 legacyWebAPI=False):
        """
        @param builder: the L{txlb.builder.Builder} that built C{balancer}
            (its reactor serves the admin; it builds what the admin adds).
        @param legacyWebAPI: also answer pythondirector's web API
            (L{txlb.admin._legacy}).
        """
        self.legacyWebAPI = legacyWebAPI
        MultiService.__init__(self)
        self.setName("admin")
        self.balancer = balancer
        self.reactor = reactor = builder.reactor
        self.api = AdminAPI(balancer, builder)
        self.refresh = refresh
        self.projectURL = projectURL
        self.userFile = UserFile(users) if users else None
        for description in listen:
            endpoint = listenEndpoint(description, reactor)
            if self.userFile is None and not isLocal(endpoint):
                raise ConfigError(
                    f"the admin on {description} would be reachable from other machines "
                    "without a password: listen on 127.0.0.1 (tcp:PORT:interface=127.0.0.1) "
                    "or give a users file (--admin-users, written by txlb passwd)"
                )
        self.resource = self._protect()
        for description in listen:
            site = Site(self.resource)
            site.displayTracebacks = False
            site.noisy = False
            Listener("admin", description, site, reactor).setServiceParent(self)

    def useAPI(self, api):
        """
        Serve C{api} (an L{AdminAPI} or what wraps one) from now on.
        """
        self.api = api
        self.resource = self._protect()
        for listener in self:
            listener.factory.resource = self.resource

    def makeRoot(self, user=None, readOnly=False):
        """
        The resource tree for one user: C{/}, C{/style.css}, C{/metrics},
        C{/RPC2}.
        """
        root = _Root()
        root.putChild(b"", StatusPage(self.balancer, self.refresh, self.projectURL))
        root.putChild(b"style.css", Stylesheet())
        root.putChild(b"metrics", MetricsResource(self.balancer))
        root.putChild(b"RPC2", AdminRPC(self.api, user, readOnly))
        if self.legacyWebAPI:
            installLegacyWebAPI(root, self.api, user, readOnly)
        return root

    def _protect(self):
        if self.userFile is None:
            return self.makeRoot()
        portal = Portal(AdminRealm(self.makeRoot, self.userFile), [UserFileChecker(self.userFile)])
        return HTTPAuthSessionWrapper(portal, [BasicCredentialFactory(b"txlb admin")])
