"""
Unit tests for what operators' signals do (L{txlb.operatorsignals}) and
for txlb's own log under twistd (L{txlb._twistdlog}), with the signal
registry and the C{signal} module replaced by fakes.
"""

import json
import os
import shutil
import signal
import tempfile

from twisted.logger import Logger
from twisted.trial.unittest import SynchronousTestCase

from txlb import _twistdlog
from txlb._twisted import twistdRotatingLogFile
from txlb.errors import ConfigError
from txlb.operatorsignals import OperatorSignals


class _Signals:
    """
    The few names of the C{signal} module the service uses.
    """

    SIGUSR1, SIGUSR2, SIGHUP = signal.SIGUSR1, signal.SIGUSR2, signal.SIGHUP
    SIG_DFL = signal.SIG_DFL

    def __init__(self, usr1=None):
        self.handlers = {signal.SIGUSR1: usr1}

    def getsignal(self, signum):
        return self.handlers.get(signum)

    def signal(self, signum, handler):
        self.handlers[signum] = handler


class _Workers:
    def __init__(self):
        self.sent = []

    def signal(self, signum):
        self.sent.append(signum)
        return 1


class _LogFile:
    path = "/var/log/twistd.log"

    def __init__(self):
        self.reopened = 0

    def reopen(self):
        self.reopened += 1


def _twistdHandler(logFile):
    """
    A function shaped like twistd's own SIGUSR1 handler.
    """

    def rotateLog(signal, frame):
        logFile.rotate()

    rotateLog.__module__ = "twisted.scripts._twistd_unix"
    return rotateLog


class OperatorSignalsTests(SynchronousTestCase):
    def setUp(self):
        self.callbacks = {}
        self.balancer = type("B", (), {"workers": None})()

    def onSignal(self, signum, reactor, callback):
        self.callbacks.setdefault(signum, []).append(callback)
        return lambda: None

    def started(self, signals=None):
        service = OperatorSignals(self.balancer, object(), self.onSignal, signals or _Signals())
        service.privilegedStartService()
        service.startService()
        return service

    def fire(self, signum):
        for callback in self.callbacks[signum]:
            callback()

    def test_everySignalHandled(self):
        """
        USR1, USR2 and HUP each get a callback, so none of them has its
        default action (death) while txlb runs, also after a stop.
        """
        service = self.started()
        service.stopService()
        self.assertEqual(set(self.callbacks), {signal.SIGUSR1, signal.SIGUSR2, signal.SIGHUP})

    def test_usr2AndHupLogged(self):
        """
        USR2 and an unclaimed HUP log one line each and do nothing else.
        """
        events = []
        self.patch(OperatorSignals, "log", Logger(observer=events.append))
        self.started()
        self.fire(signal.SIGUSR2)
        self.fire(signal.SIGHUP)
        self.assertEqual(len(events), 2)
        self.assertIn("SIGUSR2", events[0]["log_format"])
        self.assertIn("nothing to reload", events[1]["log_format"])

    def test_usr1PassedToWorkers(self):
        """
        In worker 0 of several, USR1 is passed on to the other workers.
        """
        self.balancer.workers = _Workers()
        self.started()
        self.fire(signal.SIGUSR1)
        self.assertEqual(self.balancer.workers.sent, [signal.SIGUSR1])

    def test_twistdRotationBecomesReopen(self):
        """
        twistd's own USR1 handler (which renames its log to C{.1}) is taken
        away; USR1 reopens twistd's log file at its path instead.
        """
        logFile = _LogFile()
        signals = _Signals(_twistdHandler(logFile))
        self.started(signals)
        self.assertIs(signals.handlers[signal.SIGUSR1], signal.SIG_DFL)
        self.fire(signal.SIGUSR1)
        self.assertEqual(logFile.reopened, 1)

    def test_otherHandlerKept(self):
        """
        A USR1 handler that is not twistd's is left alone.
        """
        handler = lambda signum, frame: None  # noqa: E731
        signals = _Signals(handler)
        self.started(signals)
        self.assertIs(signals.handlers[signal.SIGUSR1], handler)
        self.assertIsNone(twistdRotatingLogFile(handler))


class TwistdLogTests(SynchronousTestCase):
    def setUp(self):
        self.directory = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.directory, True)
        self.addCleanup(_twistdlog._wanted.clear)

    def test_usedAsTwistdLogger(self):
        """
        twistd logs through txlb's observer, keeping its --logfile.
        """
        options = {"logger": None, "syslog": False, "logfile": "x.log", "nodaemon": True}
        self.assertTrue(_twistdlog.useFor(options, "json"))
        self.assertEqual(options["logger"], "txlb._twistdlog.observer")
        self.assertEqual(_twistdlog._wanted["logfile"], "x.log")

    def test_jsonNeedsOwnLogger(self):
        """
        --log-format json with twistd's --syslog is refused with a sentence;
        text leaves syslog alone.
        """
        options = {"logger": None, "syslog": True}
        self.assertRaises(ConfigError, _twistdlog.useFor, options, "json")
        self.assertFalse(_twistdlog.useFor(options, "text"))
        self.assertIsNone(options["logger"])

    def test_badFormat(self):
        """
        An unknown --log-format is one sentence.
        """
        error = self.assertRaises(ConfigError, _twistdlog.useFor, None, "xml")
        self.assertEqual(str(error), "--log-format is text or json, not 'xml'")

    def test_jsonLines(self):
        """
        With --log-format json, each event is one JSON object on its own
        line in the log file, with no record separator.
        """
        path = os.path.join(self.directory, "txlb.log")
        _twistdlog.useFor({"logger": None, "logfile": path, "nodaemon": True}, "json")
        self.patch(_twistdlog, "onSignal", lambda *a: None)
        observer = _twistdlog.observer()
        Logger(observer=observer).info("hello {who}", who="operator")
        with open(path) as f:
            [line] = f.read().splitlines()
        event = json.loads(line)
        self.assertEqual((event["log_format"], event["who"]), ("hello {who}", "operator"))
