"""
The admin changes a running txlb has made, kept so that a handover passes
them on: the new process replays them, in order, before it takes over.
"""

from twisted.internet import defer
from twisted.logger import Logger

from txlb.admin._rpc import METHODS

#: Writing calls that change nothing a new process should repeat.
_NOT_STATE = {"reopenLog", "shutdown"}


class JournaledAPI:
    """
    Wraps an admin API (L{txlb.admin.AdminAPI} or what wraps one): every
    change that succeeds is appended to C{journal} as C{(method, args)};
    reads pass through.
    """

    def __init__(self, api, journal):
        self.api = api
        self.journal = journal
        for name, (_, _, writes, _) in METHODS.items():
            if writes and name not in _NOT_STATE:
                setattr(self, name, self._recorded(name))

    def __getattr__(self, name):
        return getattr(self.api, name)

    def _recorded(self, name):
        def change(user, *args):
            result = getattr(self.api, name)(user, *args)
            if isinstance(result, defer.Deferred):
                return result.addCallback(self._record, name, args)
            return self._record(result, name, args)

        return change

    def _record(self, result, name, args):
        self.journal.append((name, list(args)))
        return result


class Replay:
    """
    Makes the changes of a journal again through an admin API, one after
    the other; a change refused (the new configuration may have it
    already) is logged and skipped.
    """

    log = Logger()

    def __init__(self, api, journal):
        self.api = api
        self.journal = list(journal)

    @defer.inlineCallbacks
    def run(self):
        """
        Replay every change; a Deferred firing with how many succeeded.
        """
        done = 0
        for method, args in self.journal:
            try:
                yield defer.maybeDeferred(getattr(self.api, method), "handover", *args)
            except Exception as e:
                self.log.warn(
                    "handover: admin change {method}{args} not repeated: {why}",
                    method=method, args=tuple(args), why=getattr(e, "faultString", None) or e,
                )
            else:
                done += 1
        return done
