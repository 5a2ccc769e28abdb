"""
The admin service: the XML-RPC API, the status page and the metrics on
one or more endpoints, behind HTTP Basic auth when a users file is given.
"""

import ipaddress

from twisted.application.service import MultiService
from twisted.internet.task import LoopingCall
from twisted.logger import Logger
from twisted.web.resource import Resource

from txlb._signals import onHangup
from txlb._twisted import isUnixEndpoint, tcpEndpointAddress
from txlb.address import listenEndpoint
from txlb.admin._api import AdminAPI
from txlb.admin._export import StatusCSV, StatusJSON
from txlb.admin._legacy import installLegacyWebAPI
from txlb.admin._limits import AdminLimits
from txlb.admin._login import AdminLogin, PasswordChecker, SourceBackoff
from txlb.admin._metrics import MetricsResource
from txlb.admin._page import StatusPage, Stylesheet
from txlb.admin._rpc import AdminRPC
from txlb.admin._site import AdminSite
from txlb.admin._users import CHECK_EVERY, AdminRealm, UserFile
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
    address = tcpEndpointAddress(endpoint)
    if address is None:
        return isUnixEndpoint(endpoint)
    interface = address[0]
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
    credentials, and C{readonly} users cannot change anything. The file is
    looked at every second and re-read when it changed, and on C{SIGHUP}. C{limits} (an
    L{AdminLimits}) bound what the admin may take from the relay.
    """

    log = Logger()

    def __init__(self, balancer, listen, builder, users=None, refresh=10.0, projectURL=None,
                 limits=None, legacyWebAPI=False):
        """
        @param builder: the L{txlb.builder.Builder} that built C{balancer}
            (its reactor and clock serve the admin; it builds what the admin
            adds).
        @param limits: the L{AdminLimits} (deadlines, caps, reserve).
        @param legacyWebAPI: also answer pythondirector's web API
            (L{txlb.admin._legacy}).
        """
        self.legacyWebAPI = legacyWebAPI
        MultiService.__init__(self)
        self.setName("admin")
        self.balancer = balancer
        self.reactor = reactor = builder.reactor
        self.clock = builder.clock
        self.api = AdminAPI(balancer, builder)
        self.refresh = refresh
        self.projectURL = projectURL
        self.limits = limits if limits is not None else AdminLimits()
        self.userFile = None
        self.login = None
        self._stopHangup = None
        self._watch = None
        if users:
            self.userFile = UserFile(users, self.clock)
            self.userFile.start()
            self.login = AdminLogin(
                PasswordChecker(self.userFile, self.clock),
                AdminRealm(self.makeRoot, self.userFile),
                SourceBackoff(self.clock),
                self.clock,
            )
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
            site = AdminSite(self.resource, self.clock, self.limits, self.login)
            Listener("admin", description, site, reactor).setServiceParent(self)

    def startService(self):
        MultiService.startService(self)
        if self.userFile is not None:
            self._stopHangup = onHangup(self.reactor, self.userFile.reload)
            self._watch = LoopingCall(self.userFile.reload)
            self._watch.clock = self.clock
            self._watch.start(CHECK_EVERY, now=False)

    def stopService(self):
        if self._stopHangup is not None:
            self._stopHangup()
            self._stopHangup = None
        if self._watch is not None and self._watch.running:
            self._watch.stop()
        return MultiService.stopService(self)

    def refused(self):
        """
        Connections and requests the admin refused, by reason (summed over
        its endpoints).
        """
        total = {}
        for listener in self:
            for reason, count in listener.factory.refused.items():
                total[reason] = total.get(reason, 0) + count
        return total

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
        root.putChild(b"metrics", MetricsResource(self.balancer, self))
        root.putChild(b"status.csv", StatusCSV(self.balancer))
        root.putChild(b"status.json", StatusJSON(self.balancer))
        root.putChild(b"RPC2", AdminRPC(self.api, user, readOnly))
        if self.legacyWebAPI:
            installLegacyWebAPI(root, self.api, user, readOnly)
        return root

    def _protect(self):
        # With users, each request's tree comes from logging in (AdminSite);
        # this one serves only when there are none.
        return self.makeRoot()
