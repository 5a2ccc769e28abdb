"""
C{twistd txlb}: run a C{.tac} (C{--config}), the demo (C{--demo}), or a
quick-start balancer described by flags.
"""


import os

from twisted.python import usage

from txlb import __version__, _twistdlog, workers
from txlb.builder import Builder
from txlb.demo import demo
from txlb.describe import dryRun
from txlb.errors import ConfigError
from txlb.flags import DEFAULT_LISTEN, accessLogSpec, adminSpecs, edgeOptions, flagsBalancer, wholeNumber
from txlb.handover import addHandover, takePidFile
from txlb.operatorsignals import handleSignals
from txlb.schedulers import knownSchedulers
from txlb.tacfile import loadTac


class Options(usage.Options):
    """
    The flags of C{twistd txlb}.
    """

    synopsis = (
        "[--config FILE.tac | --demo | --listen ENDPOINT --backend ADDR [--backend ADDR ...]]"
        " [--check KIND] [--heartbeat udp:PORT --heartbeat-key-file FILE] [--dry-run]"
    )
    longdesc = (
        f"txlb {__version__}. txlb relays TCP connections to a pool of backends. Give a .tac file "
        "with --config, or describe one service on the command line: every "
        "--listen endpoint feeds the service 'default', whose group 'default' "
        "holds every --backend. --demo starts three demo backends inside the "
        "process. Endpoints are Twisted endpoint strings (tcp:8080, "
        "tcp:8080:interface=127.0.0.1, tcp6:8080, unix:/run/lb.sock); a "
        "backend may also be written HOST:PORT or [IPv6]:PORT. --dry-run "
        "checks everything and prints what would run, as txlb check does for "
        "a .tac file."
    )
    optFlags = [
        ["demo", None, "Run three demo backends inside the process behind the listener."],
        ["no-splice", None, "Relay every byte through Twisted, never with splice(2) in the kernel."],
        ["no-lean", None, "Carry plain TCP on Twisted's transports, not on the lean connection path."],
        ["dry-run", None, "Check the flags (or the --config file), print what would run and exit."],
        ["admin-access-log", None, "Log one line per admin request (at most 20 a second)."],
        [
            "admin-legacy-web-api",
            None,
            "The admin also answers pythondirector's web API (/running.txt, /addHost?...).",
        ],
    ]
    optParameters = [
        ["config", "c", None, "Run the application defined by this .tac file."],
        [
            "handover",
            None,
            None,
            "A UNIX socket path: take over the sockets of the txlb answering there "
            "(hitless upgrade), else serve handovers there.",
        ],
        [
            "scheduler",
            "s",
            "roundrobin",
            "How to pick a backend, NAME or NAME:key=value,... ('help' lists them).",
        ],
        ["connect-timeout", None, "5", "Seconds to wait for a backend to accept."],
        ["idle-timeout", None, None, "Close connections silent both ways this long (seconds)."],
        ["check", None, None, "Health-check the backends: tcp, http:/PATH or send-expect:SEND:EXPECT."],
        ["check-interval", None, None, "Seconds between checks of a backend [default: 2]."],
        ["check-timeout", None, None, "Seconds a check may take [default: 1]."],
        ["rise", None, None, "Passed checks that bring a down backend back [default: 2]."],
        ["fall", None, None, "Failed checks that take a backend down [default: 3]."],
        ["heartbeat", None, None, "Take signed heartbeats on this udp:PORT[:interface=ADDR]."],
        ["heartbeat-key-file", None, None, "The file holding the heartbeat key."],
        ["etcd", None, None, "Share the services with other nodes through etcd at URL[,URL...] "
                             "(see doc/scale-out.rst); --backend is optional then."],
        ["etcd-prefix", None, "/txlb/", "The etcd prefix the shared description lives under."],
        ["admin-users", None, None, "The admin's users file (txlb passwd); required off loopback."],
        ["admin-refresh", None, "10", "Seconds between refreshes of the admin's status page."],
        ["project-url", None, None, "A link shown in the admin status page's header."],
        ["tls-cert", None, None, "Serve TLS on the --listen endpoints with this PEM certificate (it may hold the key and chain)."],
        ["tls-key", None, None, "The PEM key of --tls-cert when not in that file."],
        ["tls-chain", None, None, "A PEM file of intermediate certificates sent after --tls-cert."],
        [
            "tls-client-ca",
            None,
            None,
            "Require client certificates signed by an authority in this PEM file (TLS listeners).",
        ],
        [
            "workers",
            "w",
            "1",
            "Run this many processes, each a full balancer sharing the TCP listeners "
            "(SO_REUSEPORT); the admin runs in the first and answers for all.",
        ],
        [
            "state",
            None,
            None,
            "Keep the running configuration in this file (written after every change); "
            "at start, when it exists, it wins over --config or the flags.",
        ],
        [
            "drain-timeout",
            None,
            "10",
            "On stop, seconds open connections may finish in before they are aborted.",
        ],
        [
            "access-log",
            None,
            None,
            "Append one record per client connection to this file ('-': into txlb's own log); "
            "overrides the --config file's accessLog.",
        ],
        ["access-log-format", None, "text", "The access log's format: text or json."],
        ["log-format", None, "text", "The format of txlb's own log: text or json (one object a line)."],
        [
            "max-client-conns",
            None,
            None,
            "Connections one client address may hold open at once (per worker).",
        ],
        [
            "max-client-rate",
            None,
            None,
            "New connections one client address may open per second (per worker).",
        ],
        [
            "maxconn",
            None,
            None,
            "Client connections held at once; at the cap, stop accepting until one ends (per worker).",
        ],
    ]

    def __init__(self):
        usage.Options.__init__(self)
        self["listen"] = []
        self["backend"] = []
        self["admin"] = []
        self["dns"] = []
        self["allow"] = []
        self["deny"] = []
        self.service = None

    def opt_listen(self, endpoint):
        """An endpoint to accept clients on (repeatable) [default: tcp:8080:interface=127.0.0.1]."""
        self["listen"].append(endpoint)

    opt_l = opt_listen

    def opt_backend(self, backend):
        """A backend [NAME=]ADDR[,name=NAME][,weight=N][,backup][,maxconn=N][,proxy=v1|v2][,tls[,servername=NAME][,ca=FILE][,cert=FILE][,key=FILE][,verify=no]] (repeatable); ADDR is HOST:PORT, [IPv6]:PORT or an endpoint string; the name defaults to ADDR."""
        self["backend"].append(backend)

    opt_b = opt_backend

    def opt_dns(self, server):
        """A DNS server HOST:PORT to resolve backends named by host name with (repeatable) [default: those of /etc/resolv.conf]."""
        self["dns"].append(server)

    def opt_allow(self, network):
        """Accept clients from this network only, e.g. 10.0.0.0/8 (repeatable; a --deny wins)."""
        self["allow"].append(network)

    def opt_deny(self, network):
        """Refuse clients from this network, e.g. 192.0.2.0/24 (repeatable)."""
        self["deny"].append(network)

    def opt_admin(self, endpoint):
        """Serve the admin (XML-RPC /RPC2, status page /, /metrics) on this endpoint (repeatable)."""
        self["admin"].append(endpoint)

    def parseOptions(self, options=None):
        """
        Parse, and turn every mistake into one sentence: twistd would print
        its whole usage before it.
        """
        try:
            usage.Options.parseOptions(self, options)
        except usage.UsageError as e:
            raise SystemExit(f"twistd txlb: {e}") from None

    def opt_version(self):
        """Print txlb's version and exit."""
        print(f"txlb {__version__}")
        raise SystemExit(0)

    def postOptions(self):
        """
        Check the flags and build what they describe.

        @raise usage.UsageError: naming the problem.
        """
        if self["scheduler"] == "help":
            print(schedulerHelp())
            raise SystemExit(0)
        try:
            role = self.workerRole()
            builder = Builder(_reactor(), role=role, accessLog=accessLogSpec(self))
            self.service = self.makeBalancer(builder)
            if not isinstance(role, workers.Worker):
                # A worker's log is relayed, line by line, into worker 0's.
                _twistdlog.useFor(getattr(self, "parent", None), self["log-format"])
        except ConfigError as e:
            raise usage.UsageError(str(e)) from None
        handleSignals(self.service, _reactor())
        takePidFile(self.service, getattr(self, "parent", None))
        if self["dry-run"]:
            raise SystemExit(dryRun(self.service, "twistd txlb", workers=self["workers"]))

    def workerRole(self):
        """
        What this process is among the C{--workers}: None alone, else a
        L{txlb.workers.Supervisor} (worker 0) or L{txlb.workers.Worker}.
        """
        count = wholeNumber("--workers", self["workers"])
        if count > workers.MAX_WORKERS:
            raise ConfigError(f"--workers is at most {workers.MAX_WORKERS}, not {count}")
        role = workers.workerRole()
        if role is not None:
            return workers.Worker(role, _reactor())
        if count > 1:
            return workers.Supervisor(count, workers.workerCommand(self.workerArguments()), _reactor())
        return None

    def workerArguments(self):
        """
        The C{twistd txlb} arguments the other workers run: these, with the
        C{--config} file's path made absolute and C{--workers} left out.
        """
        arguments = []
        for flag, value in self._given():
            if flag == "workers":
                continue
            if flag in ("config", "access-log") and value != "-":
                value = os.path.abspath(value)
            arguments += [f"--{flag}"] + ([value] if value is not None else [])
        return arguments

    def _given(self):
        flags = {f[0] for f in self.optFlags}
        for name in ("listen", "backend", "admin", "allow", "deny", "dns"):
            for value in self[name]:
                yield name, value
        for flag in sorted(flags):
            if self[flag]:
                yield flag, None
        defaults = {p[0]: p[2] for p in self.optParameters}
        for name, default in defaults.items():
            if self[name] is not None and self[name] != default:
                yield name, self[name]

    def makeBalancer(self, builder):
        """
        Build the service tree these options describe with C{builder},
        reloaded on C{SIGHUP} and kept in C{--state} (see L{reconfigurable}).

        @raise ConfigError: naming the problem.
        """
        top = self._build(builder)
        self.reconfigurable(top, builder)
        return top

    def reconfigurable(self, top, builder):
        """
        Make the balancer in C{top} reload its source (the --config file or
        these flags) on C{SIGHUP} and keep its state (C{--state}); see
        L{txlb.reload.reconfigurable}.
        """
        from txlb.reload import reconfigurable

        source = None if self["demo"] else self.flagsBalancer
        reconfigurable(top, builder, self["config"], source, self["state"], isinstance(builder.role, workers.Worker))

    def _build(self, builder):
        if self["config"] is not None:
            clashing = [
                f
                for f in (
                    "listen", "backend", "admin", "etcd", "tls-cert", "tls-key", "tls-chain", "tls-client-ca",
                    "allow", "deny", "max-client-conns", "max-client-rate", "maxconn", "dns",
                )
                if self[f]
            ] + (
                ["demo"] if self["demo"] else []
            )
            if clashing:
                raise ConfigError(
                    "--config describes everything itself; drop --"
                    + ", --".join(clashing)
                )
            service = loadTac(self["config"], builder)
            if self["handover"] is not None:
                addHandover(service, builder, self["handover"])
            return service

        if self["demo"]:
            if self["backend"]:
                raise ConfigError("--demo brings its own backends; drop --backend")
            listen = self["listen"] or [DEFAULT_LISTEN]
            top = demo(
                builder, listen=listen, scheduler=self["scheduler"], admin=adminSpecs(self), **edgeOptions(self)
            )
            if self["handover"] is not None:
                addHandover(top, builder, self["handover"])
            return top
        return builder.balancer(self.flagsBalancer())

    def flagsBalancer(self):
        """
        The description the quick-start flags give (L{txlb.flags}).

        @raise ConfigError: naming the problem.
        """
        return flagsBalancer(self)

def schedulerHelp():
    """
    The text C{--scheduler help} prints: every scheduler found.
    """
    lines = ["Schedulers (--scheduler NAME):"]
    for name, aliases, description in knownSchedulers():
        also = f" (also: {', '.join(aliases)})" if aliases else ""
        lines.append(f"  {name:<12} {description}{also}")
    return "\n".join(lines)


def _reactor():
    # twistd has installed the reactor it was asked for by the time the
    # options are parsed; library code never imports it at module level.
    from twisted.internet import reactor

    return reactor


def makeService(options):
    """
    Return the service tree C{options} built.
    """
    return options.service


__all__ = ["Options", "makeService"]
