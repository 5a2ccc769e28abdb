"""
pythondirector's web API, for the scripts that drive it today: the old GET
paths (C{/addHost?service=S&group=G&name=N&ip=HOST:PORT}, C{/running.txt},
...) mapped onto the same L{txlb.admin.AdminAPI} operations as XML-RPC,
behind the same users and roles. Turned on by C{Admin(legacyWebAPI=True)}
(C{--admin-legacy-web-api}); see C{doc/migration.rst}.

Changes answer C{OK} (status 200) or C{error: SENTENCE} with a status that
says what kind of refusal it is; C{/running.xml} is pythondirector's XML,
which C{txlb convert} reads back.
"""

import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

from twisted.internet.defer import maybeDeferred
from twisted.logger import Logger
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET

from txlb.admin._faults import BAD_ARGUMENT, CONFLICT, FAILED, FORBIDDEN, NOT_FOUND, AdminError

#: The HTTP status for each fault code.
STATUS = {NOT_FOUND: 404, BAD_ARGUMENT: 400, CONFLICT: 409, FORBIDDEN: 403, FAILED: 500}

#: The ways pythondirector's calls named a host: by name, or by its address.
_HOST_KEYS = ("name", "ip", "host", "client")

#: Each change: (required arguments, optional ones, whether it names a host).
ACTIONS = {
    "addHost": (("service", "group", "name", "ip"), ("weight",), False),
    "delHost": (("service", "group"), (), True),
    "delAllHosts": (("service", "group"), (), False),
    "enableGroup": (("service", "group"), (), False),
    "changeScheduler": (("service", "group", "scheduler"), (), False),
    "hostAdminDown": (("service", "group"), (), True),
    "hostAdminUp": (("service", "group"), (), True),
    "retryHost": (("service", "group"), (), True),
}


def _answer(request, status, text, contentType=b"text/plain; charset=utf-8"):
    request.setResponseCode(status)
    request.setHeader(b"Content-Type", contentType)
    request.setHeader(b"Cache-Control", b"no-store")
    return text.encode("utf-8") if isinstance(text, str) else text


def _whenDone(request, d):
    """
    Write what C{d} gives (the body, status already set) and finish, unless
    the client has gone meanwhile (a change may wait for every worker).
    """
    gone = []
    request.notifyFinish().addErrback(lambda _: gone.append(True))

    def finish(body):
        if not gone and not request.finished:
            request.write(body)
            request.finish()

    d.addCallback(finish)
    return NOT_DONE_YET


def _crossSite(request):
    """
    True when a browser says the request comes from another site: such a
    request must not change anything, even with the user's credentials.
    """
    site = request.getHeader(b"sec-fetch-site")
    if site is not None and site.strip().lower() not in (b"same-origin", b"none"):
        return True
    origin = request.getHeader(b"origin")
    if origin is None:
        return False
    host = request.getHeader(b"host") or b""
    return urlsplit(origin.decode("latin-1")).netloc.lower() != host.decode("latin-1").lower()


def _arguments(request, name, required, optional, namesHost):
    allowed = set(required) | set(optional) | (set(_HOST_KEYS) if namesHost else set())
    arguments = {}
    for rawKey, values in request.args.items():
        try:
            key = rawKey.decode("utf-8")
            value = values[-1].decode("utf-8")
        except UnicodeDecodeError:
            raise AdminError(BAD_ARGUMENT, f"{name}: arguments must be UTF-8") from None
        if key not in allowed:
            raise AdminError(BAD_ARGUMENT, f"{name} takes no argument {key!r}")
        if len(values) > 1:
            raise AdminError(BAD_ARGUMENT, f"{name}: {key} is given twice")
        arguments[key] = value
    missing = [key for key in required if not arguments.get(key)]
    if namesHost and not any(arguments.get(key) for key in _HOST_KEYS):
        missing.append("name (or ip)")
    if missing:
        raise AdminError(BAD_ARGUMENT, f"{name} needs {', '.join(missing)}")
    return arguments


def _hostName(api, service, group, arguments):
    """
    The name of the host that C{arguments} name (by name or address).
    """
    _, pool = api.pool(service, group)
    found = set()
    for key in _HOST_KEYS:
        value = arguments.get(key)
        if not value:
            continue
        if value in pool.hosts:
            found.add(value)
            continue
        matches = [n for n, h in pool.hosts.items() if h.address == value]
        if not matches:
            raise AdminError(
                NOT_FOUND, f"group {group!r} of service {service!r} has no host named or at {value!r}"
            )
        found.update(matches)
    if len(found) > 1:
        raise AdminError(BAD_ARGUMENT, f"the arguments name several hosts: {', '.join(sorted(found))}")
    return found.pop()


def _call(api, user, name, arguments):
    service, group = arguments["service"], arguments["group"]
    if name == "addHost":
        extra = ()
        if "weight" in arguments:
            try:
                extra = (int(arguments["weight"]),)
            except ValueError:
                raise AdminError(BAD_ARGUMENT, f"weight must be a whole number, not {arguments['weight']!r}") from None
        return api.addHost(user, service, group, arguments["name"], arguments["ip"], *extra)
    if name == "changeScheduler":
        return api.changeScheduler(user, service, group, arguments["scheduler"])
    if ACTIONS[name][2]:
        return getattr(api, name)(user, service, group, _hostName(api, service, group, arguments))
    return getattr(api, name)(user, service, group)


class LegacyAction(Resource):
    """
    One of pythondirector's changes, as a GET with query arguments.
    """

    isLeaf = True
    log = Logger()

    def __init__(self, api, name, user=None, readOnly=False):
        Resource.__init__(self)
        self.api = api
        self.name = name
        self.user = user
        self.readOnly = readOnly

    def render_HEAD(self, request):
        # Twisted would run GET for HEAD, and a HEAD must change nothing.
        request.setHeader(b"Allow", b"GET")
        return _answer(request, 405, b"")

    def render_GET(self, request):
        if self.readOnly:
            return _answer(request, 403, f"error: user {self.user!r} may only read; {self.name} changes things\n")
        if _crossSite(request):
            return _answer(request, 403, f"error: {self.name} refused: the request comes from another site\n")
        required, optional, namesHost = ACTIONS[self.name]
        d = maybeDeferred(
            lambda: _call(self.api, self.user, self.name,
                          _arguments(request, self.name, required, optional, namesHost))
        )
        d.addCallbacks(lambda _: _answer(request, 200, "OK\n"), self._refused, errbackArgs=(request,))
        return _whenDone(request, d)

    def _refused(self, failure, request):
        if failure.check(AdminError):
            error = failure.value
            return _answer(request, STATUS.get(error.code, 500), f"error: {error.message}\n")
        self.log.failure("legacy web call {name} failed", failure, name=self.name)
        return _answer(request, 500, f"error: {self.name} failed inside txlb; see its log\n")


def runningText(status):
    """
    pythondirector's C{running.txt} from L{txlb.admin.AdminAPI.getStatus}:
    C{service NAME LISTEN ENABLED} per listener, C{group NAME
    enabled|inactive}, C{host NAME ADDRESS OPEN -} for each usable host and
    C{disabled NAME ADDRESS STATE -} for the others.
    """
    lines = []
    for service, info in status.items():
        enabled = info["enabledGroup"]
        for listener in info["listeners"]:
            lines.append(f"service {service} {listener} {enabled}")
        for group, ginfo in info["groups"].items():
            lines.append(f"group {group} {'enabled' if group == enabled else 'inactive'}")
            for name, host in ginfo["hosts"].items():
                if host["state"] == "up":
                    lines.append(f"host {name} {host['address']} {int(host['open'])} -")
                else:
                    lines.append(f"disabled {name} {host['address']} {host['state']} -")
    return "".join(line + "\n" for line in lines)


def _listenIP(listener):
    # pythondirector wrote host:port; a UNIX socket becomes its endpoint.
    return "unix:" + listener if listener.startswith("/") else listener


def runningXML(status):
    """
    pythondirector's C{running.xml} (C{<pdconfig>} with services, listeners,
    groups, hosts and the enabled group) from
    L{txlb.admin.AdminAPI.getStatus}; C{txlb convert} reads it back. Hosts
    carry C{weight}, C{backup} and C{maxconn} only where they are not the
    defaults. The admin and its users are left out.
    """
    top = ET.Element("pdconfig")
    for service, info in status.items():
        element = ET.SubElement(top, "service", name=service)
        for listener in info["listeners"]:
            ET.SubElement(element, "listen", ip=_listenIP(listener))
        for group, ginfo in info["groups"].items():
            xg = ET.SubElement(element, "group", name=group, scheduler=ginfo["scheduler"])
            for name, host in ginfo["hosts"].items():
                xh = ET.SubElement(xg, "host", name=name, ip=host["address"])
                if host["weight"] != 1:
                    xh.set("weight", str(int(host["weight"])))
                if host["backup"]:
                    xh.set("backup", "yes")
                if host["maxconn"]:
                    xh.set("maxconn", str(int(host["maxconn"])))
        if info["enabledGroup"]:
            ET.SubElement(element, "enable", group=info["enabledGroup"])
    ET.indent(top, "    ")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(top, encoding="unicode") + "\n"


class LegacyView(Resource):
    """
    C{/running.txt} or C{/running.xml}: the running configuration and state.
    """

    isLeaf = True
    log = Logger()

    def __init__(self, api, render, contentType):
        Resource.__init__(self)
        self.api = api
        self.renderStatus = render
        self.contentType = contentType

    def render_GET(self, request):
        d = maybeDeferred(self.api.getStatus)
        d.addCallback(lambda status: _answer(request, 200, self.renderStatus(status), self.contentType))
        d.addErrback(self._failed, request)
        return _whenDone(request, d)

    def _failed(self, failure, request):
        self.log.failure("legacy web view failed", failure)
        return _answer(request, 500, "error: the status could not be read; see txlb's log\n")


def installLegacyWebAPI(root, api, user=None, readOnly=False):
    """
    Add pythondirector's paths to the admin resource C{root} of one user:
    C{/running} (the status page, which C{root} serves at C{/}),
    C{/running.txt}, C{/running.xml} and the changes in L{ACTIONS}.
    """
    root.putChild(b"running", root.children[b""])
    root.putChild(b"running.txt", LegacyView(api, runningText, b"text/plain; charset=utf-8"))
    root.putChild(b"running.xml", LegacyView(api, runningXML, b"text/xml; charset=utf-8"))
    for name in ACTIONS:
        root.putChild(name.encode("ascii"), LegacyAction(api, name, user, readOnly))
    return root
