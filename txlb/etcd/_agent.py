"""
C{txlb heartbeat --etcd URL ...}: a backend registers itself with every
node of a fleet by putting its host key (see L{txlb.etcd._layout}) under
an etcd lease that it keeps alive. When the agent dies the lease expires
after C{--ttl} seconds and every node drops the host; a clean stop
(SIGTERM, SIGINT) revokes the lease at once.
"""

import argparse
import json
import sys

from twisted.application.service import Service
from twisted.internet import defer
from twisted.logger import Logger

from txlb.config import Host
from txlb.errors import ConfigError
from txlb.etcd._client import EtcdClient, EtcdError, EtcdUnavailable
from txlb.etcd._layout import hostKey

#: Seconds between attempts to register while etcd is unreachable.
RETRY = 1.0


class LeaseRegistration(Service):
    """
    Keeps one host registered under a lease of C{ttl} seconds, renewed
    every third of it; registers again when the lease was lost.

    @ivar lease: the lease id, or None while not registered.
    """

    log = Logger()

    def __init__(self, client, clock, prefix, service, group, host, ttl):
        self.client = client
        self.clock = clock
        self.key = hostKey(prefix, service, group, host.name)
        self.value = json.dumps({"address": host.address, "weight": host.weight}, sort_keys=True)
        self.ttl = ttl
        self.lease = None
        self.call = None
        self.renewals = 0

    def startService(self):
        """
        Register, then renew the lease every third of its time.
        """
        Service.startService(self)
        self._register()

    def _later(self, delay, what):
        if self.running:
            self.call = self.clock.callLater(delay, what)

    @defer.inlineCallbacks
    def _register(self):
        try:
            lease = yield self.client.grant(self.ttl)
            yield self.client.put(self.key, self.value, lease=lease)
        except (EtcdUnavailable, EtcdError) as e:
            self.log.warn("cannot register {key}: {why}; retrying", key=self.key, why=str(e))
            self._later(RETRY, self._register)
            return
        if not self.running:
            yield self.client.revoke(lease)
            return
        self.lease = lease
        self.log.info("registered {key} under lease {lease:x} ({ttl} s)", key=self.key, lease=lease, ttl=self.ttl)
        self._later(self.ttl / 3.0, self._renew)

    @defer.inlineCallbacks
    def _renew(self):
        try:
            ttl = yield self.client.keepAlive(self.lease)
        except (EtcdUnavailable, EtcdError) as e:
            self.log.warn("cannot renew lease {lease:x}: {why}", lease=self.lease, why=str(e))
            self._later(self.ttl / 3.0, self._renew)
            return
        if ttl <= 0:
            self.log.warn("lease {lease:x} expired; registering again", lease=self.lease)
            self.lease = None
            self._register()
            return
        self.renewals += 1
        self._later(self.ttl / 3.0, self._renew)

    def stopService(self):
        """
        Revoke the lease: every node drops the host now.
        """
        Service.stopService(self)
        if self.call is not None and self.call.active():
            self.call.cancel()
        if self.lease is None:
            return self.client.close()
        lease, self.lease = self.lease, None
        d = self.client.revoke(lease)
        d.addCallbacks(lambda _: self.log.info("revoked lease {lease:x}: {key} is gone", lease=lease, key=self.key),
                       lambda f: self.log.warn("cannot revoke lease {lease:x} ({why}); it expires in {ttl} s",
                                               lease=lease, why=f.getErrorMessage(), ttl=self.ttl))
        d.addBoth(lambda _: self.client.close())
        return d


def parser():
    """
    The arguments of C{txlb heartbeat --etcd}.
    """
    p = argparse.ArgumentParser(
        prog="txlb heartbeat",
        description="Register a backend with every txlb node sharing an etcd prefix, under a lease kept "
                    "alive while this runs (see doc/scale-out.rst).",
    )
    p.add_argument("--etcd", required=True, metavar="URL[,URL...]", help="the etcd members' client URLs")
    p.add_argument("--etcd-prefix", default="/txlb/", metavar="PREFIX", help="the nodes' prefix (default /txlb/)")
    p.add_argument("--ttl", type=int, required=True, metavar="S",
                   help="seconds after the agent's death until the host is dropped")
    p.add_argument("--service", required=True, help="the service the host joins")
    p.add_argument("--group", required=True, help="the group the host joins")
    p.add_argument("--name", required=True, help="the host's name in its group")
    p.add_argument("--address", required=True, help="the host's address (HOST:PORT or an endpoint string)")
    p.add_argument("--weight", type=int, default=1, metavar="W", help="the host's weight (default 1)")
    return p


def registration(argv, reactor):
    """
    The L{LeaseRegistration} C{argv} describes, and the arguments.

    @raise ConfigError: naming what is wrong.
    """
    args = parser().parse_args(argv)
    if args.ttl < 1:
        raise ConfigError(f"--ttl is a whole number of seconds of at least 1, not {args.ttl}")
    host = Host(args.name, args.address, weight=args.weight)
    urls = [u.strip() for u in args.etcd.split(",") if u.strip()]
    if not urls or not all(u.startswith(("http://", "https://")) for u in urls):
        raise ConfigError(f"--etcd takes URLs such as http://127.0.0.1:2379, not {args.etcd!r}")
    client = EtcdClient(reactor, urls)
    return LeaseRegistration(client, reactor, args.etcd_prefix, args.service, args.group, host, args.ttl), args


def heartbeat(argv, reactor=None):
    """
    Run C{txlb heartbeat --etcd ...}; return the exit status.
    """
    if reactor is None:
        from twisted.internet import reactor
    try:
        agent, args = registration(argv, reactor)
    except ConfigError as e:
        print(f"txlb heartbeat: {e}", file=sys.stderr)
        return 1
    from twisted.logger import globalLogBeginner, textFileLogObserver

    globalLogBeginner.beginLoggingTo([textFileLogObserver(sys.stdout)], redirectStandardIO=False)
    print(f"txlb heartbeat: {args.name} ({args.address}, weight {args.weight}) in {args.service}/{args.group} "
          f"through etcd {args.etcd}, lease {args.ttl} s", flush=True)
    reactor.callWhenRunning(agent.startService)
    reactor.addSystemEventTrigger("before", "shutdown", agent.stopService)
    reactor.run()
    print(f"txlb heartbeat: stopped after {agent.renewals} renewals", flush=True)
    return 0
