"""
Reloading on C{SIGHUP} and keeping the running description in a state
file (C{--state}): see C{doc/reconfiguration.rst}.

On C{SIGHUP} the C{.tac} (or the flags) the process was started from is
read again for its description, without building it, and the running
balancer is changed to match it the way C{txlbctl apply} does (all or
nothing, in place: listeners that did not change stay open and no
connection drops). A file that is broken is one logged sentence naming
the file and line, and changes nothing.
"""

import os

import attr
from twisted.application.service import Service
from twisted.logger import Logger

from txlb._signals import onHangup
from txlb.admin._api import AdminAPI
from txlb.admin._faults import AdminError
from txlb.balancer import LoadBalancer
from txlb.errors import ConfigError
from txlb.plain import toPlain
from txlb.state import StateFile
from txlb.tacfile import describeTac


class Reloader(Service):
    """
    Changes the balancer to match its source on each C{SIGHUP} (in
    worker 0 with C{--workers}; the others follow through the admin's
    broadcast).

    @ivar source: a no-argument callable answering the description to
        run (a L{txlb.config.Balancer}), or raising L{ConfigError}; None
        in the workers other than worker 0, where the signal is only
        logged (a process group's SIGHUP must not end them).
    @ivar shown: how the source is named in the log (a path, or "the
        flags").
    """

    log = Logger()
    name = "reload"

    def __init__(self, balancer, builder, source, shown, hangup=onHangup):
        self.balancer = balancer
        self.builder = builder
        self.source = source
        self.shown = shown
        self._hangup = hangup
        self._stop = None

    def startService(self):
        Service.startService(self)
        self._stop = self._hangup(self.builder.reactor, self.reload)

    def stopService(self):
        Service.stopService(self)
        if self._stop is not None:
            self._stop()
            self._stop = None

    def _api(self):
        api = AdminAPI(self.balancer, self.builder)
        if self.balancer.workers is not None:
            from txlb.workers import WorkerAdminAPI

            api = WorkerAdminAPI(api, self.balancer.workers)
        return api

    def reload(self):
        """
        Read the source again and apply it; a Deferred (with
        C{--workers}) or None. Without a source (in workers other than
        worker 0), say where to send the signal instead.
        """
        if self.source is None:
            self.log.info("SIGHUP ignored here: worker 0 reloads {source} and passes the changes on",
                          source=self.shown)
            return None
        self.log.info("SIGHUP: reloading {source}", source=self.shown)
        try:
            wanted = self.source()
        except ConfigError as e:
            self.log.error("reload failed, nothing changed: {why}", why=str(e))
            return None
        running = self.balancer.spec
        if running is not None:
            wanted = attr.evolve(wanted, admin=running.admin)
        try:
            result = self._api().applyConfig("SIGHUP", toPlain(wanted))
        except AdminError as e:
            self.log.error("reload of {source} failed, nothing changed: {why}", source=self.shown, why=e.message)
            return None
        if self.balancer.workers is not None:
            result.addCallback(self._everywhere)
        return result

    def _everywhere(self, result):
        self.log.info("SIGHUP: every worker runs the reloaded configuration")
        return result


class StateKeeper:
    """
    Writes a balancer's running description to its state file after each
    change (one of C{LoadBalancer.specObservers}).
    """

    log = Logger()

    def __init__(self, path):
        self.file = StateFile(path)

    def __call__(self, spec):
        try:
            self.file.write(spec)
        except OSError as e:
            self.log.error(
                "cannot write the state file {path}: {why}; the change is made but will not survive a restart",
                path=self.file.path,
                why=e.strerror or str(e),
            )


def keepState(balancer, builder, path, shownSource):
    """
    Make C{balancer} keep its description in the state file at C{path}:
    when the file exists, change the (not yet started) balancer to run
    what it holds and log that it won over C{shownSource}; from now on,
    write it after every change.

    @raise ConfigError: when the file cannot be read or what it holds
        cannot be run.
    """
    keeper = StateKeeper(path)
    stored = keeper.file.read()
    if stored is not None and balancer.spec is not None:
        api = AdminAPI(balancer, builder)
        stored = attr.evolve(stored, admin=balancer.spec.admin)
        try:
            changes = api.reconfigure(None, balancer.spec, stored, why=f"starting from the state file {path}")
        except AdminError as e:
            raise ConfigError(f"the state file {path} cannot be run ({e.message}); move it away to start from {shownSource}") from None
        StateKeeper.log.info(
            "starting from the state file {path}, not from {source} ({count} differences)",
            path=path,
            source=shownSource,
            count=len(changes),
        )
        if balancer.workers is not None:
            # Workers start from the source and catch up through the journal.
            balancer.workers.journal.insert(0, ("applyConfig", (toPlain(stored),)))
    balancer.specObservers.append(keeper)
    return keeper


def reconfigurable(top, builder, config, flags, state, follower):
    """
    Make the balancer in C{top} (a L{LoadBalancer}, or a service holding
    one) reload on C{SIGHUP} and keep its state, as C{twistd txlb} runs it.

    @param config: the C{--config} path, or None.
    @param flags: a no-argument callable answering the description the
        flags give (used without C{config}), or None when there is none
        (C{--demo}).
    @param state: the C{--state} path, or None (then C{Balancer(state=...)}
        is used, if given).
    @param follower: True in the workers other than worker 0: they follow
        worker 0 and only log a C{SIGHUP}.
    @raise ConfigError: for C{--state} without a description to keep, or a
        state file that cannot be used.
    """
    found = [top] if isinstance(top, LoadBalancer) else [c for c in top if isinstance(c, LoadBalancer)]
    shown = config or "the flags"
    if len(found) == 1 and follower:
        Reloader(found[0], builder, None, shown).setServiceParent(found[0])
        return
    source = flags
    if config is not None:
        path = os.path.abspath(config)
        source = lambda: describeTac(path)  # noqa: E731
    if len(found) != 1 or found[0].spec is None or source is None:
        if state is not None:
            raise ConfigError("--state needs a balancer described by a .tac (application(Balancer(...))) or flags")
        return
    balancer = found[0]
    state = state or balancer.spec.state
    if state is not None:
        keepState(balancer, builder, state, shown)
    Reloader(balancer, builder, source, shown).setServiceParent(balancer)
