"""
C{twistd txlb}: run a C{.tac} (C{--config}), the demo (C{--demo}), or a
quick-start balancer described by flags.
"""


from twisted.python import usage

from txlb.errors import ConfigError

DEFAULT_LISTEN = "tcp:8080:interface=127.0.0.1"


def _seconds(flag, text):
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise ConfigError(f"{flag} must be a number of seconds, not {text!r}") from None
    if not value > 0:
        raise ConfigError(f"{flag} must be above 0 seconds, not {text!r}")
    return value


def _drainSeconds(text):
    try:
        value = float(text)
    except (TypeError, ValueError):
        value = -1.0
    if not value >= 0:
        raise ConfigError(f"--drain-timeout must be 0 or more seconds, not {text!r}")
    return value


class Options(usage.Options):
    """
    The flags of C{twistd txlb}.
    """

    synopsis = (
        "[--config FILE.tac | --demo | --listen ENDPOINT --backend ADDR [--backend ADDR ...]]"
    )
    longdesc = (
        "txlb relays TCP connections to a pool of backends. Give a .tac file "
        "with --config, or describe one service on the command line: every "
        "--listen endpoint feeds the service 'default', whose group 'default' "
        "holds every --backend. --demo starts three demo backends inside the "
        "process. Endpoints are Twisted endpoint strings (tcp:8080, "
        "tcp:8080:interface=127.0.0.1, tcp6:8080, unix:/run/lb.sock); a "
        "backend may also be written HOST:PORT or [IPv6]:PORT."
    )
    optFlags = [
        ["demo", None, "Run three demo backends inside the process behind the listener."],
    ]
    optParameters = [
        ["config", "c", None, "Run the application defined by this .tac file."],
        [
            "scheduler",
            "s",
            "roundrobin",
            "How to pick a backend, NAME or NAME:key=value,... ('help' lists them).",
        ],
        ["connect-timeout", None, "5", "Seconds to wait for a backend to accept."],
        ["idle-timeout", None, None, "Close connections silent both ways this long (seconds)."],
        [
            "drain-timeout",
            None,
            "10",
            "On stop, seconds open connections may finish in before they are aborted.",
        ],
    ]

    def __init__(self):
        usage.Options.__init__(self)
        self["listen"] = []
        self["backend"] = []
        self.service = None

    def opt_listen(self, endpoint):
        """An endpoint to accept clients on (repeatable) [default: tcp:8080:interface=127.0.0.1]."""
        self["listen"].append(endpoint)

    opt_l = opt_listen

    def opt_backend(self, backend):
        """A backend ADDR[,weight=N][,backup][,maxconn=N] (repeatable); ADDR is HOST:PORT, [IPv6]:PORT or an endpoint string."""
        self["backend"].append(backend)

    opt_b = opt_backend

    def postOptions(self):
        if self["scheduler"] == "help":
            print(schedulerHelp())
            raise SystemExit(0)
        try:
            self.service = self.makeBalancer()
        except ConfigError as e:
            raise SystemExit(f"twistd txlb: {e}") from None

    def makeBalancer(self):
        """
        Build the service tree these options describe.

        @raise ConfigError: naming the problem.
        """
        if self["config"] is not None:
            clashing = [f for f in ("listen", "backend") if self[f]] + (
                ["demo"] if self["demo"] else []
            )
            if clashing:
                raise ConfigError(
                    "--config describes everything itself; drop --"
                    + ", --".join(clashing)
                )
            from txlb.tacfile import loadTac

            return loadTac(self["config"])
        from txlb.builder import build
        from txlb.config import Balancer, Group, Service, parseBackend

        listen = self["listen"] or [DEFAULT_LISTEN]
        connectTimeout = _seconds("--connect-timeout", self["connect-timeout"])
        drainTimeout = _drainSeconds(self["drain-timeout"])
        idleTimeout = None
        if self["idle-timeout"] is not None:
            idleTimeout = _seconds("--idle-timeout", self["idle-timeout"])
        if self["demo"]:
            if self["backend"]:
                raise ConfigError("--demo brings its own backends; drop --backend")
            from txlb.demo import demo

            return demo(listen=listen, scheduler=self["scheduler"])
        if not self["backend"]:
            raise ConfigError(
                "nothing to balance: give --backend HOST:PORT at least once "
                "(or --config FILE.tac, or --demo)"
            )
        hosts = [parseBackend(text) for text in self["backend"]]
        spec = Balancer(
            services=[
                Service(
                    "default",
                    listen=listen,
                    groups=[Group("default", scheduler=self["scheduler"], hosts=hosts)],
                    connectTimeout=connectTimeout,
                    idleTimeout=idleTimeout,
                    drainTimeout=drainTimeout,
                )
            ]
        )
        return build(spec)


def schedulerHelp():
    """
    The text C{--scheduler help} prints: every scheduler found.
    """
    from txlb.schedulers import knownSchedulers

    lines = ["Schedulers (--scheduler NAME):"]
    for name, aliases, description in knownSchedulers():
        also = f" (also: {', '.join(aliases)})" if aliases else ""
        lines.append(f"  {name:<12} {description}{also}")
    return "\n".join(lines)


def makeService(options):
    """
    Return the service tree C{options} built.
    """
    return options.service


__all__ = ["Options", "makeService"]
