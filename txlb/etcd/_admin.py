"""
The admin of a node sharing its description through etcd: every call that
changes the description (C{addHost}, C{setWeight}, C{applyConfig}, ...)
is written to etcd first and made on every node from the watch, this one
included; listeners (C{addListener}, C{delListener}) and host states
(C{hostAdminDown}, C{hostDrain}, ...) stay this node's own.
"""

import attr
from twisted.internet import defer

from txlb.admin._faults import BAD_ARGUMENT, AdminError
from txlb.config import Balancer
from txlb.diff import DESCRIBED, Change, applyChange, diff
from txlb.errors import ConfigError
from txlb.etcd._layout import withoutRegistered
from txlb.plain import fromPlain

#: Description changes that stay on this node.
LOCAL = frozenset({"addListener", "delListener"})


class SharedAdminAPI:
    """
    Wraps a node's admin API (L{txlb.admin.AdminAPI}, or worker 0's);
    what is not shared passes through.
    """

    def __init__(self, api, store):
        self.api = api
        self.store = store
        for name in DESCRIBED - LOCAL:
            setattr(self, name, self._shared(name))

    def __getattr__(self, name):
        return getattr(self.api, name)

    def _shared(self, name):
        def change(user, *args):
            made = Change(name, args)

            def describe(stored):
                result = True
                if name == "delAllHosts":
                    service = {s.name: s for s in stored.services}.get(args[0])
                    groups = {g.name: g for g in service.groups} if service is not None else {}
                    result = len(groups[args[1]].hosts) if args[1] in groups else 0
                return applyChange(stored, made), result

            return self.store.change(user, made.command(), describe)

        return change

    def applyConfig(self, user, config):
        """
        Make every node run the services of C{config}, all or nothing
        (registered hosts in it stay with their leases); answers the
        changes, as C{txlbctl} command lines.
        """
        try:
            target = fromPlain(Balancer, config, "the new configuration")
        except ConfigError as e:
            raise AdminError(BAD_ARGUMENT, str(e)) from None

        def describe(stored):
            byName = {s.name: s for s in stored.services}
            services = withoutRegistered(target.services, self.store.registered(), byName)
            after = attr.evolve(stored, services=services)
            return after, [c.command() for c in diff(stored, after)]

        return self.store.change(user, "applied a new configuration", describe)

    def getStatus(self):
        """
        The live status by service, and the store's state under C{etcd}
        (unless a service has that name: the status page and C{/metrics}
        show the store too).
        """
        d = defer.maybeDeferred(self.api.getStatus)

        def withStore(status):
            status = dict(status)
            status.setdefault("etcd", self.store.status())
            return status

        return d.addCallback(withStore)
