"""
The in-process harness: a balancer built with L{txlb.builder.build} on the
real reactor, in a process of its own, whose counters the suite reads
through a control port (until the admin lands, the product itself offers
no way to read them).

C{python -m txlb.faultsuite.inprocess [--connect-timeout S]
[--idle-timeout S] ADDR...} runs the service C{default} on a free local
port over the hosts C{ADDR...}, logs to stdout like twistd, prints
C{control on PORT}; a line C{counters} sent there is answered with one
JSON line (see L{counters}).
"""

import argparse
import json
import sys

from twisted.internet.protocol import Factory
from twisted.logger import globalLogBeginner, textFileLogObserver
from twisted.protocols.basic import LineReceiver

from txlb.builder import build
from txlb.config import Balancer, Group, Host, Service


def counters(balancer):
    """
    Every counter of C{balancer} that must add up: per service C{accepted},
    C{unreachable}, C{clients} (open now); per group C{waiting},
    C{refused}; per host C{open}, C{total}, C{failed}.
    """
    services = {}
    for proxy in balancer.proxies.values():
        groups = {}
        for pool in proxy.pools.values():
            hosts = {
                h.name: {"open": h.open, "total": h.total, "failed": h.failed}
                for h in pool.hosts.values()
            }
            groups[pool.name] = {"waiting": pool.waiting, "refused": pool.refused, "hosts": hosts}
        services[proxy.name] = {
            "accepted": proxy.accepted,
            "unreachable": proxy.unreachable,
            "clients": len(proxy.clients),
            "groups": groups,
        }
    return services


class _Control(LineReceiver):
    delimiter = b"\n"

    def lineReceived(self, line):
        if line.strip() == b"counters":
            self.sendLine(json.dumps(counters(self.factory.balancer)).encode())
        self.transport.loseConnection()


def main(argv=None):
    """
    Run the harness until SIGTERM.
    """
    parser = argparse.ArgumentParser(prog="inprocess")
    parser.add_argument("hosts", nargs="+")
    parser.add_argument("--connect-timeout", type=float, default=5.0)
    parser.add_argument("--idle-timeout", type=float, default=None)
    args = parser.parse_args(argv)
    from twisted.internet import reactor

    globalLogBeginner.beginLoggingTo([textFileLogObserver(sys.stdout)], redirectStandardIO=False)
    description = Balancer(
        services=[
            Service(
                "default",
                listen=["tcp:0:interface=127.0.0.1"],
                groups=[Group("default", hosts=[Host(a, a) for a in args.hosts])],
                connectTimeout=args.connect_timeout,
                idleTimeout=args.idle_timeout,
            )
        ]
    )
    balancer = build(description, reactor=reactor)
    control = Factory.forProtocol(_Control)
    control.noisy = False
    control.balancer = balancer
    port = reactor.listenTCP(0, control, interface="127.0.0.1")
    reactor.callWhenRunning(balancer.startService)
    reactor.addSystemEventTrigger("before", "shutdown", balancer.stopService)
    print(f"control on {port.getHost().port}", flush=True)
    reactor.run()


if __name__ == "__main__":
    main()
