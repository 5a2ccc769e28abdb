"""
What a pythondirector (or txLoadBalancer) XML configuration means in txlb:
the tree of L{txlb.convert._xml.Element}s becomes a checked
L{txlb.config.Balancer} plus what cannot be carried over (warnings, the
admin users who need new passwords, the log file).
"""

import attr

from txlb.address import ENDPOINT_PREFIXES, splitHostPort
from txlb.convert._listen import isLocal, loopback, serverEndpoint
from txlb.config import Admin, Balancer, Ejection, Group, Host, Service
from txlb.errors import ConfigError
from txlb.schedulers import parseSchedulerSpec, schedulerFactory

#: The attributes each element may have.
ATTRIBUTES = {
    "pdconfig": (),
    "config": (),
    "service": ("name",),
    "listen": ("ip",),
    "group": ("name", "scheduler", "enable"),
    "host": ("name", "ip", "weight", "backup", "maxconn"),
    "client": ("name", "ip", "weight", "backup", "maxconn"),
    "enable": ("group",),
    "admin": ("listen", "secure", "refresh"),
    "web": ("listen", "secure", "refresh", "enable"),
    "user": ("name", "password", "access"),
    "logging": ("file",),
    "manager": ("hostCheckInterval",),
    "hostCheck": ("interval", "enable"),
    "control": ("socket",),
}

#: The elements each element may hold.
CHILDREN = {
    "pdconfig": ("service", "admin", "logging", "manager", "control"),
    "service": ("listen", "group", "enable"),
    "group": ("host", "client"),
    "admin": ("user", "web", "ssh"),
    "manager": ("hostCheck", "configCheck", "heartbeat"),
}
CHILDREN["config"] = CHILDREN["pdconfig"]

#: Elements understood but without a meaning in txlb: why they are dropped.
DROPPED = {
    "control": "txlb counts connected clients itself (getStatus, /metrics), so the control socket "
               "is not needed",
    "ssh": "txlb has no SSH admin; use the XML-RPC admin or txlbctl",
    "configCheck": "txlb re-reads nothing by itself; change a running txlb through the admin",
    "heartbeat": "txlb's heartbeats are configured per group (Group(heartbeat=Heartbeat(...)), "
                 "see doc/health.rst)",
}

#: pythondirector's access levels and the txlb role each becomes.
ROLES = {"full": "admin", "readonly": "readonly"}

_FALSE = ("false", "no", "0", "off")


@attr.s(frozen=True)
class Conversion:
    """
    The outcome of reading an old XML file.

    @ivar balancer: the L{Balancer} it describes.
    @ivar warnings: sentences about what was ignored or changed.
    @ivar notes: C{{(service, group): text}}, remarks shown beside a group
        (an old scheduler name).
    @ivar users: C{((name, role), ...)}: admin users to give new passwords.
    @ivar usersFile: the users file the admin reads, or None.
    @ivar logFile: where pythondirector logged, or None.
    """

    balancer = attr.ib()
    warnings = attr.ib(converter=tuple, default=())
    notes = attr.ib(factory=dict)
    users = attr.ib(converter=tuple, default=())
    usersFile = attr.ib(default=None)
    logFile = attr.ib(default=None)


def _isTrue(value):
    return value.strip().lower() not in _FALSE


class _Reader:
    def __init__(self, shown, usersFile):
        self.shown = shown
        self.usersFile = usersFile
        self.warnings = []
        self.notes = {}
        self.users = {}
        self.logFile = None
        self.checkInterval = None
        self.sawClient = False

    def warn(self, element, message):
        self.warnings.append((element.line or 0, f"{self.shown}, line {element.line}: {message}"))

    def fail(self, element, message):
        raise ConfigError(f"{self.shown}, line {element.line}: {message}")

    def children(self, element):
        """
        The children of C{element} it may hold, warning about the others,
        about unknown attributes and about stray text.
        """
        allowed = CHILDREN.get(element.tag, ())
        if element.text:
            self.warn(element, f"text inside <{element.tag}> is ignored")
        for child in element.children:
            if child.tag not in allowed:
                self.warn(child, f"unknown element <{child.tag}> inside <{element.tag}>; ignored")
                continue
            if child.tag in DROPPED:
                self.warn(child, f"<{child.tag}> is dropped: {DROPPED[child.tag]}")
                continue
            for name, _ in child.attributes:
                if name not in ATTRIBUTES[child.tag]:
                    self.warn(child, f"unknown attribute {name!r} of <{child.tag}>; ignored")
            yield child

    def required(self, element, name, example):
        value = (element.get(name) or "").strip()
        if not value:
            self.fail(element, f"<{element.tag}> needs {name}=\"{example}\"")
        return value

    def number(self, element, name, integer=False, minimum=0):
        text = element.get(name)
        try:
            value = int(text) if integer else float(text)
        except (TypeError, ValueError):
            value = None
        if value is None or value < minimum or (not integer and value == minimum):
            noun = f"a whole number of at least {minimum}" if integer else f"a number above {minimum}"
            self.fail(element, f"{name}={text!r} of <{element.tag}> must be {noun}")
        return value

    # The file

    def read(self, root):
        if root.tag not in ("pdconfig", "config"):
            self.fail(root, f"expected <pdconfig> at the top, not <{root.tag}>")
        for name, _ in root.attributes:
            self.warn(root, f"unknown attribute {name!r} of <{root.tag}>; ignored")
        services, admins, managers = [], [], []
        for child in self.children(root):
            if child.tag == "service":
                services.append(child)
            elif child.tag == "admin":
                admins.append(child)
            elif child.tag == "manager":
                managers.append(child)
            elif child.tag == "logging":
                self.logFile = self.required(child, "file", "/var/log/pydir.log")
        for manager in managers:
            self.manager(manager)
        if not services:
            self.fail(root, f"<{root.tag}> holds no <service>")
        byName = {}
        for element in services:
            service = self.service(element)
            if service.name in byName:
                self.warn(element, f"a second service named {service.name!r} replaces the first")
            byName[service.name] = service
        adminSpecs = [a for a in (self.admin(element) for element in admins) if a is not None]
        try:
            balancer = Balancer(services=list(byName.values()), admin=adminSpecs)
        except ConfigError as e:
            self.fail(root, str(e))
        return Conversion(
            balancer,
            [text for _, text in sorted(self.warnings, key=lambda w: w[0])],
            self.notes,
            tuple(self.users.items()),
            self.usersFile if self.users else None,
            self.logFile,
        )

    def manager(self, element):
        interval = None
        if element.get("hostCheckInterval") is not None:
            interval = self.number(element, "hostCheckInterval")
        for check in self.children(element):
            if _isTrue(check.get("enable", "true")) and check.get("interval") is not None:
                interval = self.number(check, "interval")
        if interval is not None:
            self.checkInterval = interval
            self.warn(element, f"the manager re-tried failed hosts every {interval:g} s: every group "
                               f"takes a host whose connection fails out for {interval:g} s, then "
                               "tries it again (Ejection)")

    # Services

    def service(self, element):
        name = self.required(element, "name", "web")
        listen, groups, enabled = [], {}, None
        for child in self.children(element):
            if child.tag == "listen":
                endpoint = self.endpoint(child, self.required(child, "ip", "*:8080"))
                if endpoint in listen:
                    self.warn(child, f"service {name!r} listens on {endpoint} twice; once is kept")
                else:
                    listen.append(endpoint)
            elif child.tag == "group":
                group = self.group(child, name)
                if group.name in groups:
                    self.warn(child, f"a second group named {group.name!r} replaces the first")
                groups[group.name] = group
                if _isTrue(child.get("enable", "false")):
                    enabled = self.enable(child, enabled, group.name)
            elif child.tag == "enable":
                enabled = self.enable(child, enabled, self.required(child, "group", "blue"))
        if not listen:
            self.fail(element, f"service {name!r} has no <listen ip=\"host:port\"/>")
        if not groups:
            self.fail(element, f"service {name!r} has no <group>")
        if enabled is None:
            enabled = next(iter(groups))
            self.warn(element, f"service {name!r} enables no group; the first, {enabled!r}, is enabled")
        elif enabled not in groups:
            self.fail(element, f"service {name!r} enables the group {enabled!r}, which it does not have")
        try:
            return Service(name, listen=listen, groups=list(groups.values()), enabledGroup=enabled)
        except ConfigError as e:
            self.fail(element, str(e))

    def enable(self, element, enabled, group):
        if enabled is not None and enabled != group:
            self.warn(element, f"the group {group!r} is enabled instead of {enabled!r}")
        return group

    def endpoint(self, element, text, secure=False):
        """
        The server endpoint string for pythondirector's C{host:port}.
        """
        try:
            return serverEndpoint(text, secure)
        except ValueError as e:
            self.fail(element, str(e))

    def group(self, element, service):
        name = self.required(element, "name", "blue")
        scheduler = self.scheduler(element, service, name)
        hosts = {}
        for count, child in enumerate(self.children(element)):
            host = self.host(child, count)
            if host.name in hosts:
                self.warn(child, f"a second host named {host.name!r} in group {name!r} replaces the first")
            hosts[host.name] = host
        if not hosts:
            self.warn(element, f"group {name!r} has no hosts (add them with the admin's addHost)")
        options = {}
        if self.checkInterval is not None:
            options["ejection"] = Ejection(
                failures=1, time=self.checkInterval, maxTime=self.checkInterval
            )
        try:
            return Group(name, scheduler=scheduler, hosts=list(hosts.values()), **options)
        except ConfigError as e:
            self.fail(element, str(e))

    def scheduler(self, element, service, group):
        spec = self.required(element, "scheduler", "roundrobin")
        try:
            name, _ = parseSchedulerSpec(spec)
            factory = schedulerFactory(name)
        except ConfigError as e:
            self.fail(element, f"group {group!r}: {e}")
        if factory.name == name:
            return spec
        self.notes[(service, group)] = f"was {name!r}"
        return factory.name + spec.strip()[len(name):]

    def host(self, element, count):
        if element.tag == "client" and not self.sawClient:
            self.sawClient = True
            self.warn(element, "<client> is the old spelling of <host>; read as <host>")
        name = (element.get("name") or "").strip() or f"host.{count}"
        address = self.required(element, "ip", "10.0.0.1:80")
        if splitHostPort(address) is None and not address.startswith(ENDPOINT_PREFIXES):
            self.fail(element, f"host {name!r}: {address!r} is not host:port (such as 10.0.0.1:80)")
        options = {}
        if element.get("weight") is not None:
            options["weight"] = self.number(element, "weight", integer=True)
        if element.get("maxconn") is not None:
            options["maxconn"] = self.number(element, "maxconn", integer=True, minimum=1)
        if element.get("backup") is not None:
            options["backup"] = _isTrue(element.get("backup"))
        try:
            return Host(name, address, **options)
        except ConfigError as e:
            self.fail(element, str(e))

    # The admin

    def admin(self, element):
        # txLoadBalancer moved listen, secure and refresh into <web>.
        settings = {name: element for name in ATTRIBUTES["admin"] if element.get(name) is not None}
        users = []
        for child in self.children(element):
            if child.tag == "user":
                users.append(child)
            elif child.tag == "web":
                if not _isTrue(child.get("enable", "true")):
                    self.warn(child, "the web admin is disabled here, so no admin is made")
                    return None
                for name in ATTRIBUTES["admin"]:
                    if name not in settings and child.get(name) is not None:
                        settings[name] = child
        if "listen" not in settings:
            self.fail(element, "<admin> needs listen=\"host:port\"")
        secure = "secure" in settings and _isTrue(settings["secure"].get("secure"))
        endpoint = self.endpoint(settings["listen"], settings["listen"].get("listen").strip(), secure)
        if secure:
            self.warn(element, "secure: the admin serves HTTPS with the key and certificate in "
                               "server.pem (as pythondirector did); change privateKey= (and "
                               "certKey=) to your files")
        if not users and not isLocal(endpoint):
            endpoint = loopback(endpoint)
            self.warn(element, f"the admin has no users, and txlb serves an admin without users on "
                               f"loopback only: it listens on {endpoint}")
        for user in users:
            self.user(user)
        options = {}
        if "refresh" in settings:
            options["refresh"] = self.number(settings["refresh"], "refresh")
        try:
            return Admin([endpoint], users=self.usersFile if users else None, **options)
        except ConfigError as e:
            self.fail(element, str(e))

    def user(self, element):
        name = self.required(element, "name", "admin")
        access = (element.get("access") or "").strip()
        role = ROLES.get(access)
        if role is None:
            role = "readonly"
            self.warn(element, f"user {name!r} has access={access!r}, neither 'full' nor 'readonly'; "
                               "made readonly")
        if ":" in name or name.strip() != name:
            self.warn(element, f"user {name!r} cannot be a txlb user (no ':' or spaces around it); left out")
            return
        self.users[name] = role


def interpret(root, shown, usersFile):
    """
    Read the root L{txlb.convert._xml.Element} of a pythondirector file.

    @param shown: the file's name as the sentences say it.
    @param usersFile: the path of the txlb users file the admin will read.
    @return: a L{Conversion}.
    @raise ConfigError: one sentence with the line, for what cannot be
        converted.
    """
    return _Reader(shown, usersFile).read(root)
