"""
A balancer's share of the fleet's description in etcd: L{SharedStore}
reads the prefix at start (seeding it from this node's description when it
is empty), then watches it and applies every change through the admin's
C{applyConfig} (the live reconfiguration path), the changes this node made
included. Admin changes are written by L{SharedStore.change}: a
transaction conditioned on the revisions read, retried on a conflict.

When etcd cannot be reached the node keeps serving what it last applied;
it retries with a growing delay, and on reconnecting re-reads the whole
prefix and watches from there (so does a watch cancelled by compaction).
"""

import time

import attr
from twisted.application.service import Service
from twisted.internet import defer
from twisted.internet.error import ConnectError, ConnectionLost
from twisted.internet.task import deferLater
from twisted.web.client import ResponseFailed, ResponseNeverReceived
from twisted.logger import Logger
from zope.interface import implementer

from txlb.admin._faults import BAD_ARGUMENT, CONFLICT, FAILED, AdminError
from txlb.diff import diff
from txlb.errors import ConfigError
from txlb.etcd._client import EtcdError, EtcdUnavailable, describe
from txlb.etcd._layout import (
    SERVICES,
    nodeDescription,
    readHosts,
    readServices,
    serviceKey,
    serviceValue,
    storedDescription,
    writes,
)
from txlb.etcd._watch import Compacted, Watch, WatchEnded
from txlb.interfaces import ISharedStore
from txlb.plain import toPlain

CONNECTING, CONNECTED, DISCONNECTED = "connecting", "connected", "disconnected"

#: What reading or watching etcd fails with when members cannot be reached.
_EXPECTED = (EtcdUnavailable, EtcdError, WatchEnded, Compacted, defer.CancelledError, ConnectError,
             ConnectionLost, ResponseFailed, ResponseNeverReceived)

#: Seconds before the first retry, and the longest wait between retries.
FIRST_DELAY, LONGEST_DELAY = 0.2, 3.0
#: Conflicting writes retried before an admin change gives up.
TRIES = 20
#: Seconds an admin change keeps trying while no member answers.
UNAVAILABLE_WAIT = 3.0
#: Seconds an admin change waits to see itself applied here.
APPLY_WAIT = 5.0


def _when(seconds):
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(seconds))


@implementer(ISharedStore)
class SharedStore(Service):
    """
    Keeps one balancer's services in step with the description under an
    etcd prefix.

    @ivar state: L{CONNECTING}, L{CONNECTED} or L{DISCONNECTED}, since
        C{since} (seconds since the epoch).
    @ivar revision: the etcd revision the running description follows.
    @ivar won: which description won at start: C{"stored"} or C{"seeded"}.
    @ivar applied: the last revision handled (run, or refused: then
        C{refused} is that revision and why).
    """

    log = Logger()
    name = "etcd"

    def __init__(self, client, prefix, balancer, api, builder, clock):
        """
        @param client: an L{txlb.etcd.EtcdClient}.
        @param api: the admin API whose C{applyConfig} applies changes
            (in worker 0, the one that passes them on to the others).
        @param builder: checks what an admin change builds before it is
            written.
        """
        self.client = client
        self.prefix = prefix
        self.balancer = balancer
        self.api = api
        self.builder = builder
        self.clock = clock
        self.state = CONNECTING
        self.since = clock.seconds()
        self.revision = 0
        self.applied = 0
        self.won = None
        self.lastError = None
        self.refused = (0, None)
        self.conflicts = 0
        self.changes = 0
        self.reconnects = 0
        self.kvs = {}
        self.watch = None
        self.retry = None
        self.delay = FIRST_DELAY
        self.waiters = []
        self.applying = defer.succeed(None)
        self._connecting = []

    # Running

    def startService(self):
        """
        Read the prefix (seeding it when empty), then watch it.
        """
        Service.startService(self)
        self.log.info("sharing the description through etcd {endpoints} under {prefix}",
                      endpoints=", ".join(self.client.endpoints), prefix=self.prefix)
        self._connect()

    def stopService(self):
        """
        Stop watching and retrying; close the connections to etcd.
        """
        Service.stopService(self)
        if self.retry is not None and self.retry.active():
            self.retry.cancel()
        self.retry = None
        for _, d, call in self.waiters:
            call.cancel()
            d.callback(None)
        self.waiters = []
        stopped = self.watch.stop() if self.watch is not None else defer.succeed(None)
        stopped.addBoth(lambda _: self.client.close())
        return stopped

    @defer.inlineCallbacks
    def _connect(self):
        self.retry = None
        if not self.running:
            return
        try:
            revision, kvs = yield self.client.getPrefix(self.prefix)
            if self.won is None:
                revision, kvs = yield self._seedOrTake(revision, kvs)
            if not self.running:
                return
            self.kvs = {kv.key: kv for kv in kvs}
            self._follow(revision)
            watch = self.watch = Watch(self.client, self.prefix, revision + 1, self._events)
            yield watch.start()
        except Exception as e:
            if not isinstance(e, _EXPECTED):
                self.log.failure("etcd: reading {prefix} failed", prefix=self.prefix)
            self._lost(e)
            return
        if not self.running:
            watch.stop()
            return
        if self.state != CONNECTED:
            self.log.info("etcd: connected to {member} at revision {revision}",
                          member=watch.url, revision=revision)
            self.state, self.since = CONNECTED, self.clock.seconds()
        waiting, self._connecting = self._connecting, []
        for d in waiting:
            d.callback(self.applied)
        self.delay = FIRST_DELAY
        self.lastError = None
        watch.done.addCallbacks(lambda _: None, lambda f: self._watchEnded(watch, f.value))

    @defer.inlineCallbacks
    def _seedOrTake(self, revision, kvs):
        services, _ = readServices(self.prefix, kvs)
        if not services:
            own = self.balancer.spec.services if self.balancer.spec is not None else ()
            puts = [(serviceKey(self.prefix, s.name), serviceValue(s)) for s in own]
            ok, _ = yield self.client.transaction({k: 0 for k, _ in puts}, puts)
            revision, kvs = yield self.client.getPrefix(self.prefix)
            if ok:
                self.won = "seeded"
                self.log.info("etcd: {prefix} was empty; seeded it with this node's description "
                              "({count} services)", prefix=self.prefix, count=len(puts))
                return revision, kvs
            services, _ = readServices(self.prefix, kvs)
        self.won = "stored"
        self.log.info("etcd: {prefix} holds a description ({count} services: {names}); it wins over this "
                      "node's own (its listeners stay this node's)",
                      prefix=self.prefix, count=len(services), names=", ".join(services))
        return revision, kvs

    def _watchEnded(self, watch, why):
        if not self.running or watch is not self.watch:
            return
        self.watch = None
        self.reconnects += 1
        if isinstance(why, Compacted):
            self.log.info("etcd: the watch was cancelled by compaction ({why}); re-reading {prefix}",
                          why=str(why), prefix=self.prefix)
        else:
            self.log.info("etcd: {why}; re-reading {prefix} and watching again", why=str(why), prefix=self.prefix)
        self._connect()

    def _lost(self, why):
        if not self.running:
            return
        self.lastError = describe(why)
        if self.state != DISCONNECTED:
            self.state, self.since = DISCONNECTED, self.clock.seconds()
            self.log.warn("etcd unreachable ({why}); serving the last known pools and retrying", why=self.lastError)
        self.retry = self.clock.callLater(self.delay, self._connect)
        self.delay = min(self.delay * 2, LONGEST_DELAY)

    # Applying

    def _events(self, revision, batch):
        for kind, kv in batch:
            if kind == "DELETE":
                self.kvs.pop(kv.key, None)
            else:
                self.kvs[kv.key] = kv
        self._follow(revision)

    def target(self):
        """
        The description this node should run now, from what is stored.
        """
        kvs = list(self.kvs.values())
        services, bad = readServices(self.prefix, kvs)
        for what in bad:
            self.log.warn("etcd: ignoring {what}", what=what)
        return nodeDescription(self.balancer.spec, services, self.registered())

    def registered(self):
        """
        The hosts registered under leases now: C{[(service, group, Host)]}.
        """
        return readHosts(self.prefix, list(self.kvs.values()))

    def _follow(self, revision):
        self.revision = revision
        self.applying.addCallback(lambda _: self._apply(revision))
        self.applying.addErrback(
            lambda f: self.log.failure("etcd: applying revision {revision} failed", f, revision=revision))

    def _apply(self, revision):
        if revision < self.revision:
            return None  # a later revision is queued: apply once, then.
        spec = self.balancer.spec
        target = self.target()
        if spec is None or not diff(spec, target):
            self._applied(revision)
            return None
        d = defer.maybeDeferred(self.api.applyConfig, "etcd", toPlain(target))

        def failed(f):
            why = getattr(f.value, "message", None) or f.getErrorMessage()
            self.lastError = f"cannot run revision {revision}: {why}"
            self.refused = (revision, why)
            self.log.error("etcd: {why}; serving the description before it", why=self.lastError)
            self._applied(revision)

        d.addCallbacks(lambda _: self._applied(revision), failed)
        return d

    def _applied(self, revision):
        self.applied = max(self.applied, revision)
        waiting, self.waiters = self.waiters, []
        for wanted, d, call in waiting:
            if wanted <= self.applied:
                call.cancel()
                d.callback(revision)
            else:
                self.waiters.append((wanted, d, call))

    def whenConnected(self):
        """
        A Deferred firing with the revision applied once this node reads
        and watches etcd.
        """
        if self.state == CONNECTED:
            return defer.succeed(self.applied)
        d = defer.Deferred()
        self._connecting.append(d)
        return d

    def appliedUpTo(self, revision):
        """
        A Deferred firing once this node runs C{revision} (or after
        L{APPLY_WAIT} seconds, when the watch is slow).
        """
        if self.applied >= revision:
            return defer.succeed(revision)
        d = defer.Deferred()
        entry = []

        def late():
            self.waiters.remove(entry[0])
            self.log.warn("etcd: revision {revision} not seen here after {seconds}s", revision=revision,
                          seconds=APPLY_WAIT)
            d.callback(None)

        entry.append((revision, d, self.clock.callLater(APPLY_WAIT, late)))
        self.waiters.append(entry[0])
        return d

    # Changing

    def unreachable(self):
        """
        The sentence an admin change is refused with while etcd is down.
        """
        since = self.since if self.state == DISCONNECTED else self.clock.seconds()
        return (f"the shared store (etcd) is unreachable since {_when(since)}, so nothing was changed "
                f"on any node ({self.lastError or 'no member answered'})")

    @defer.inlineCallbacks
    def change(self, user, what, describe):
        """
        Make an admin change on every node: C{describe(stored)} answers the
        shared description (a L{txlb.config.Balancer} of services) after
        the change and the call's result; the services it changes are
        written in one transaction conditioned on the revisions read,
        retried on what another node wrote meanwhile. Fires with the
        result once this node applied it.

        @raise AdminError: for a change that cannot be made (nothing is
            written), or while etcd is unreachable.
        """
        conflicts, giveUp = 0, self.clock.seconds() + UNAVAILABLE_WAIT
        while conflicts < TRIES:
            try:
                _, kvs = yield self.client.getPrefix(self.prefix + SERVICES)
                services, _ = readServices(self.prefix, kvs)
                mods = {kv.key: kv.modRevision for kv in kvs}
                after, result = self._described(describe, services)
                puts, deletes = writes(self.prefix, services, after)
                if not puts and not deletes:
                    return result
                unchanged = {key: mods.get(key, 0) for key in [k for k, _ in puts] + deletes}
                ok, revision = yield self.client.transaction(unchanged, puts, deletes)
            except EtcdUnavailable as e:
                self.lastError = str(e)
                if self.clock.seconds() < giveUp:
                    # A member lost, a leader being elected: the others may answer soon.
                    yield deferLater(self.clock, FIRST_DELAY, lambda: None)
                    continue
                raise AdminError(FAILED, self.unreachable()) from None
            except EtcdError as e:
                raise AdminError(FAILED, f"etcd refused the change, so nothing was changed on any node: "
                                         f"{e.message}") from None
            if ok:
                self.changes += 1
                self.log.info("admin {user}: {what} (etcd revision {revision})",
                              user=user or "(local)", what=what, revision=revision)
                yield self.appliedUpTo(revision)
                refused, why = self.refused
                if refused >= revision:
                    raise AdminError(FAILED, f"{what} is in etcd (revision {revision}), but this node cannot run "
                                             f"it: {why}")
                return result
            self.conflicts += 1
            conflicts += 1
        raise AdminError(CONFLICT, f"the shared description kept changing under {what}; try again")

    def _described(self, describe, services):
        try:
            after, result = describe(storedDescription(services))
            for service in after.services:
                if services.get(service.name) != service:
                    self.builder.service(attr.evolve(service, listen=()))
        except ConfigError as e:
            raise AdminError(BAD_ARGUMENT, str(e)) from None
        return after, result

    def status(self):
        """
        The store's state as plain data (C{getStatus}'s C{etcd}).
        """
        if self.state == CONNECTED:
            text = f"connected to {self.client.order()[0]} at revision {self.applied}"
        elif self.state == DISCONNECTED:
            text = f"disconnected since {_when(self.since)}"
        else:
            text = "connecting"
        return {
            "state": self.state,
            "since": _when(self.since),
            "text": text,
            "endpoints": list(self.client.endpoints),
            "prefix": self.prefix,
            "revision": self.applied,
            "description": self.won or "",
            "lastError": self.lastError or "",
            "changes": self.changes,
            "conflicts": self.conflicts,
            "reconnects": self.reconnects,
        }
