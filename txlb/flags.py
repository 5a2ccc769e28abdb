"""
What the quick-start flags of C{twistd txlb} describe: the flags' values
read into a L{txlb.config.Balancer} (one service named C{default} whose
group C{default} holds every C{--backend}), each mistake one sentence.
"""

from txlb.access import parseNetwork
from txlb.config import AccessLog, Admin, Balancer, Etcd, Group, HealthCheck, Heartbeat, Service, parseBackend
from txlb.errors import ConfigError
from txlb.tls._quickstart import quickStartTLS

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


def flagsBalancer(options):
    """
    The description (a L{txlb.config.Balancer}) the quick-start flags of
    C{options} (a parsed L{txlb.tap.Options}) give.

    @raise ConfigError: naming the problem.
    """
    listen = options["listen"] or [DEFAULT_LISTEN]
    connectTimeout = _seconds("--connect-timeout", options["connect-timeout"])
    drainTimeout = _drainSeconds(options["drain-timeout"])
    idleTimeout = None
    if options["idle-timeout"] is not None:
        idleTimeout = _seconds("--idle-timeout", options["idle-timeout"])
    if not options["backend"] and options["heartbeat"] is None and options["etcd"] is None:
        raise ConfigError(
            "nothing to balance: give --backend HOST:PORT at least once "
            "(or --config FILE.tac, or --demo)"
        )
    hosts = [parseBackend(text) for text in options["backend"]]
    listen, tls = quickStartTLS(
        listen, options["tls-cert"], options["tls-key"], options["tls-chain"], options["tls-client-ca"]
    )
    spec = Balancer(
        services=[
            Service(
                "default",
                listen=listen,
                groups=[
                    Group(
                        "default",
                        scheduler=options["scheduler"],
                        hosts=hosts,
                        check=healthCheck(options),
                        heartbeat=heartbeat(options),
                    )
                ],
                connectTimeout=connectTimeout,
                idleTimeout=idleTimeout,
                drainTimeout=drainTimeout,
                splice=not options["no-splice"],
                lean=not options["no-lean"],
                tls=tls,
                **edgeOptions(options),
            )
        ],
        admin=adminSpecs(options),
        handover=options["handover"],
        dns=options["dns"],
        state=options["state"],
        etcd=etcdSpec(options),
    )
    return spec


def accessLogSpec(options):
    """
    The L{AccessLog} C{--access-log} and C{--access-log-format} ask for,
    or None without C{--access-log}.
    """
    if options["access-log"] is None:
        if options["access-log-format"] != "text":
            raise ConfigError("--access-log-format needs --access-log PATH")
        return None
    return AccessLog(options["access-log"], format=options["access-log-format"])


def etcdSpec(options):
    """
    The L{Etcd} cluster C{--etcd} and C{--etcd-prefix} name, or None.
    """
    if options["etcd"] is None:
        if options["etcd-prefix"] != "/txlb/":
            raise ConfigError("--etcd-prefix needs --etcd")
        return None
    return Etcd(options["etcd"], prefix=options["etcd-prefix"])


def adminSpecs(options):
    """
    The admin the --admin flags ask for, as a list of L{txlb.config.Admin}
    (empty without --admin).
    """
    if not options["admin"]:
        for flag in ("admin-users", "project-url", "admin-access-log", "admin-legacy-web-api"):
            if options[flag]:
                raise ConfigError(f"--{flag} needs --admin ENDPOINT")
        return []
    return [
        Admin(
            options["admin"],
            users=options["admin-users"],
            refresh=_seconds("--admin-refresh", options["admin-refresh"]),
            projectURL=options["project-url"],
            accessLog=bool(options["admin-access-log"]),
            legacyWebAPI=options["admin-legacy-web-api"],
        )
    ]


def edgeOptions(options):
    """
    The quick-start service's access control and limits, as L{Service}
    keyword arguments: C{--allow}, C{--deny}, C{--max-client-conns},
    C{--max-client-rate} and C{--maxconn}.
    """
    limits = {
        "maxClientConns": "max-client-conns",
        "maxClientRate": "max-client-rate",
        "maxconn": "maxconn",
    }
    given = {k: wholeNumber(f"--{f}", options[f]) for k, f in limits.items() if options[f] is not None}
    for flag in ("allow", "deny"):
        for network in options[flag]:
            try:
                parseNetwork(network)
            except ValueError as e:
                raise ConfigError(f"--{flag}: {e}") from None
    return dict(given, allow=options["allow"], deny=options["deny"])


def wholeNumber(flag, text):
    """
    C{text} given to C{flag} as a whole number of at least 1.

    @raise ConfigError: naming the flag and the value.
    """
    try:
        value = int(text)
    except (TypeError, ValueError):
        value = 0
    if value < 1:
        raise ConfigError(f"{flag} must be a whole number of at least 1, not {text!r}")
    return value


def healthCheck(options):
    """
    The L{HealthCheck} that C{--check} and its companions describe, or None.
    """
    tuning = {
        "interval": ("check-interval", _seconds),
        "timeout": ("check-timeout", _seconds),
        "rise": ("rise", wholeNumber),
        "fall": ("fall", wholeNumber),
    }
    given = {k: (f, read) for k, (f, read) in tuning.items() if options[f] is not None}
    if options["check"] is None:
        if given:
            raise ConfigError(f"--{next(iter(given.values()))[0]} needs --check")
        return None
    kwargs = {k: read(f"--{f}", options[f]) for k, (f, read) in given.items()}
    return HealthCheck(kind=options["check"], **kwargs)


def heartbeat(options):
    """
    The L{Heartbeat} listener C{--heartbeat} describes, or None; unknown
    hosts may join the quick-start group.
    """
    if options["heartbeat"] is None:
        if options["heartbeat-key-file"] is not None:
            raise ConfigError("--heartbeat-key-file needs --heartbeat")
        return None
    if options["heartbeat-key-file"] is None:
        raise ConfigError("--heartbeat needs --heartbeat-key-file FILE")
    return Heartbeat(options["heartbeat"], options["heartbeat-key-file"], register=True)
