"""
The command line as a user meets it, with the real commands: every mistake
is one line and never a traceback; twistd -ny gives the same sentence as
--config; txlb check, --dry-run, --version, txlb passwd, --backend names;
a port in use leaves no pid file.
"""

import os
import shutil
import socket
import tempfile

from twisted.trial.unittest import SynchronousTestCase

from tests.support import TWISTD, TXLB, Process, temporaryFile
from txlb import __version__
from txlb.admin.passwd import MIN_PASSWORD_LENGTH

TXLBCTL = [TXLB[0], "-c", "import sys; from txlb.admin.ctl import main; sys.exit(main())"]

HEAD = "from txlb.config import Admin, Balancer, Group, Host, Service\nfrom txlb.tac import application\n"


def tac(body):
    return HEAD + "application = application(Balancer(services=[\n" + body + "\n]))\n"


#: Broken .tac files: (text, the line of the mistake, the sentence after "FILE, line N: ").
BROKEN = [
    (tac('    Service("web", groups=[Group("g", hosts=[\n        Host("a", "127.0.0.1:1", weight=-1)])])'),
     5, "a host's weight must be at least 0, not -1"),
    (tac('    Service("web", groups=[Group("g", hosts=[\n        Host("a", "127.0.0.1:1", wieght=2)])])'),
     5, "Host() got an unexpected keyword argument 'wieght'"),
    (tac('    Service("web", listen=["tcp:0:interface=127.0.0.1"],\n'
         '            groups=[Group("g", scheduler="lightest")])'),
     3, "unknown scheduler 'lightest'"),
    (tac('    Service("web", groups=[Group("g"), Group("g")])'), 4, "two groups are named 'g'"),
    (HEAD + 'application = application(Balancer(admin=Admin([])))\n', 3,
     "the admin needs at least one endpoint to listen on"),
]


class CommandCase(SynchronousTestCase):
    def runCommand(self, argv, stdin=None, cwd=None):
        process = Process(argv, stdin=stdin, cwd=cwd)
        self.addCleanup(process.stop)
        code = process.wait()
        return code, process.output

    def assertOneLine(self, argv, expected, code=None, stdin=None, cwd=None):
        """
        Run C{argv}; assert it fails (with C{code} when given) printing one
        line holding C{expected}, and no traceback.
        """
        status, output = self.runCommand(argv, stdin, cwd)
        self.assertNotEqual(status, 0, output)
        if code is not None:
            self.assertEqual(status, code, output)
        self.assertNotIn("Traceback", output)
        lines = [l for l in output.splitlines() if l.strip()]
        self.assertEqual(len(lines), 1, output)
        self.assertIn(expected, lines[0])
        return lines[0]


class TacTests(CommandCase):
    def test_twistdYSameAsConfig(self):
        """
        twistd -ny FILE.tac and twistd txlb --config FILE.tac print the same
        one sentence, naming the file and the line of the mistake.
        """
        directory = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, directory)
        for text, line, message in BROKEN:
            path = temporaryFile(self, text)
            where = f"{os.path.basename(path)}, line {line}: {message}"
            y = self.assertOneLine(TWISTD + ["-ny", path, "--pidfile="], where, 1, cwd=directory)
            c = self.assertOneLine(TWISTD + ["-n", "txlb", "--config", path], where, 1, cwd=directory)
            self.assertEqual(y.partition(": ")[2], c.partition(": ")[2])
            self.assertEqual(os.listdir(directory), [])

    def test_oldApplicationImport(self):
        """
        A .tac importing application from its old place (txlb.config) is one
        sentence under twistd -ny too, saying where it is now.
        """
        path = temporaryFile(self, "from txlb.config import Balancer, application\n\napplication = application(Balancer())\n")
        self.assertOneLine(TWISTD + ["-ny", path, "--pidfile="],
                           "line 1: ImportError: cannot import name 'application' from 'txlb.config' "
                           "(import it with: from txlb.tac import application)", 1)

    def test_pluginHint(self):
        """
        An unknown scheduler says how plugin schedulers are found.
        """
        self.assertOneLine(TWISTD + ["-ny", "tacs/plugin_scheduler.tac", "--pidfile="], "PYTHONPATH=tacs/plugins")

    def test_twistdYStillRuns(self):
        """
        A correct .tac still runs under twistd -ny (the checks above only
        act on mistakes).
        """
        from tests.support import Twistd

        path = temporaryFile(self, tac('    Service("web", listen=["tcp:0:interface=127.0.0.1"], '
                                       'groups=[Group("g", hosts=[Host("a", "127.0.0.1:1")])])'))
        process = Twistd(["-y", path])
        self.addCleanup(process.stop)
        process.address("web")


class CheckTests(CommandCase):
    def test_checkTac(self):
        """
        txlb check prints every object of the .tac with its settings:
        checks, ejection, heartbeats, hosts.
        """
        status, output = self.runCommand(TXLB + ["check", "tacs/health.tac"])
        self.assertEqual(status, 0, output)
        for expected in ("service web:", "group web (enabled):", "host app1: address=127.0.0.1:8081",
                         "check: kind=http:/health", "interval=2", "ejection: failures=3",
                         "heartbeat: listen=udp:9999:interface=127.0.0.1", "allDown=panic",
                         "tacs/health.tac: OK"):
            self.assertIn(expected, output)

    def test_checkAdmin(self):
        """
        txlb check shows the admin and its settings.
        """
        status, output = self.runCommand(TXLB + ["check", "tacs/admin.tac"])
        self.assertEqual(status, 0, output)
        self.assertIn("admin: listen=tcp:8001:interface=127.0.0.1 users=none refresh=5", output)

    def test_checkFlags(self):
        """
        txlb check --flags checks twistd txlb flags, with backend names.
        """
        status, output = self.runCommand(TXLB + [
            "check", "--flags", "--listen", "tcp:8080", "--backend", "app1=127.0.0.1:8081",
            "--backend", "127.0.0.1:8082,name=app2,weight=3", "--backend", "127.0.0.1:8083",
            "--check", "tcp", "--rise", "4",
        ])
        self.assertEqual(status, 0, output)
        self.assertIn("host app1: address=127.0.0.1:8081", output)
        self.assertIn("host app2: address=127.0.0.1:8082 weight=3", output)
        self.assertIn("host 127.0.0.1:8083: address=127.0.0.1:8083", output)
        self.assertIn("check: kind=tcp", output)
        self.assertIn("rise=4", output)

    def test_checkMistakes(self):
        """
        Mistakes given to txlb check are one line each.
        """
        self.assertOneLine(TXLB + ["check"], "give a .tac file or --flags", 2)
        self.assertOneLine(TXLB + ["check", "/nonexistent.tac"], "cannot read /nonexistent.tac", 1)
        self.assertOneLine(TXLB + ["check", "--flags", "--backend", "a="], "write NAME=ADDRESS", 1)
        self.assertOneLine(TXLB + ["check", "--flags", "--frob"], "--frob", 1)
        self.assertOneLine(TXLB + ["check", "--flags", "--backend", "x=1.2.3.4:5,name=y"], "names the host twice", 1)

    def test_dryRun(self):
        """
        twistd txlb --dry-run prints what would run and exits 0 without
        listening; a mistake is still one line.
        """
        status, output = self.runCommand(TWISTD + ["-n", "--pidfile=", "txlb", "--listen", "tcp:1", "--backend",
                                            "app1=127.0.0.1:8081", "--dry-run"])
        self.assertEqual(status, 0, output)
        self.assertIn("host app1: address=127.0.0.1:8081", output)
        self.assertNotIn("listening", output)
        self.assertOneLine(TWISTD + ["-n", "--pidfile=", "txlb", "--backend", "a=", "--dry-run"],
                           "twistd txlb: --backend 'a='", 1)

    def test_workersAndBrokenPipe(self):
        """
        --dry-run and check --flags say how many workers would run; txlb
        check into a reader that has gone exits quietly.
        """
        status, output = self.runCommand(TWISTD + ["-n", "--pidfile=", "txlb", "--workers", "2", "--backend",
                                                   "127.0.0.1:1", "--dry-run"])
        self.assertEqual(status, 0, output)
        self.assertIn("workers: 2 processes sharing the listeners", output)
        import subprocess

        from tests.support import environment

        readEnd, writeEnd = os.pipe()
        os.close(readEnd)
        try:
            result = subprocess.run(TXLB + ["check", "tacs/health.tac"], stdout=writeEnd,
                                    stderr=subprocess.PIPE, env=environment(), timeout=60)
        finally:
            os.close(writeEnd)
        self.assertEqual((result.returncode, result.stderr), (0, b""))

    def test_helpDoesNotClash(self):
        """
        txlb check's help says it validates a configuration, and twistd txlb
        --check is described as health checks.
        """
        _, check = self.runCommand(TXLB + ["check", "--help"])
        self.assertIn("Validate a configuration without running it", check)
        _, twistd = self.runCommand(TWISTD + ["txlb", "--help"])
        self.assertIn("Health-check the backends", twistd)


class VersionTests(CommandCase):
    def test_versions(self):
        """
        txlb --version, txlb version and twistd txlb --version print the
        version; twistd txlb --help names it.
        """
        for argv in (TXLB + ["--version"], TXLB + ["version"], TWISTD + ["txlb", "--version"]):
            status, output = self.runCommand(argv)
            self.assertEqual((status, output.strip()), (0, f"txlb {__version__}"))
        _, help = self.runCommand(TWISTD + ["txlb", "--help"])
        self.assertIn(f"txlb {__version__}", help)


class PasswdTests(CommandCase):
    def test_addedThenChanged(self):
        """
        txlb passwd says 'added' for a new user and 'changed' for a known one.
        """
        directory = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, directory)
        users = os.path.join(directory, "users")
        argv = TXLB + ["passwd", users, "alice", "--password-stdin"]
        self.assertEqual(self.runCommand(argv, stdin=b"correct horse\n"), (0, "added alice (admin)"))
        self.assertEqual(self.runCommand(argv, stdin=b"battery staple\n"), (0, "changed alice (admin)"))

    def test_short(self):
        """
        A password shorter than the minimum is refused in one line.
        """
        directory = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, directory)
        users = os.path.join(directory, "users")
        short = b"x" * (MIN_PASSWORD_LENGTH - 1) + b"\n"
        self.assertOneLine(TXLB + ["passwd", users, "bob", "--password-stdin"],
                           f"at least {MIN_PASSWORD_LENGTH} characters", 1, stdin=short)


class CtlTests(CommandCase):
    def test_mistakes(self):
        """
        txlbctl's mistakes are one line: unknown command, missing or bad
        arguments, a URL of another scheme, an unreadable password file,
        --user without a password file off a terminal.
        """
        self.assertOneLine(TXLBCTL + ["frob"], "invalid choice: 'frob'", 2)
        self.assertOneLine(TXLBCTL + ["weight", "web", "g"], "required: NAME, WEIGHT", 2)
        self.assertOneLine(TXLBCTL + ["weight", "web", "g", "a", "x"], "weight must be a number, not 'x'", 2)
        self.assertOneLine(TXLBCTL + ["--url", "ftp://x", "status"], "speaks http or https", 2)
        self.assertOneLine(TXLBCTL + ["--user", "u", "--password-file", "/nonexistent", "status"],
                           "cannot read the password file /nonexistent: No such file or directory", 2)
        self.assertOneLine(TXLBCTL + ["--user", "u", "status"], "needs --password-file FILE", 2)

    def test_unreachableWithoutScheme(self):
        """
        A URL without a scheme is taken as http://HOST:PORT/RPC2.
        """
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        self.assertOneLine(TXLBCTL + ["--url", f"127.0.0.1:{port}", "status"],
                           f"cannot reach the admin at http://127.0.0.1:{port}/RPC2", 1)

    def test_defaultURL(self):
        """
        The default URL is the documented http://127.0.0.1:8001/RPC2.
        """
        from txlb.admin.ctl import DEFAULT_URL

        self.assertEqual(DEFAULT_URL, "http://127.0.0.1:8001/RPC2")
        _, output = self.runCommand(TXLBCTL + ["status", "--help"])
        self.assertIn("http://127.0.0.1:8001/RPC2", output.replace("\n", " ").replace("  ", ""))

    def test_bareAndCommandHelp(self):
        """
        A bare txlbctl prints the usage with every command; COMMAND --help
        shows that command's arguments.
        """
        status, output = self.runCommand(TXLBCTL)
        self.assertEqual(status, 2)
        for command in ("status", "add-host", "drain", "shutdown"):
            self.assertIn(command, output)
        status, output = self.runCommand(TXLBCTL + ["add-host", "--help"])
        self.assertEqual(status, 0)
        self.assertIn("SERVICE GROUP NAME ADDRESS [WEIGHT]", output)


class PortInUseTests(CommandCase):
    def test_oneLineNoPidFile(self):
        """
        A listen port in use is logged once, twistd exits 1 and leaves no
        pid file, with or without -n.
        """
        taken = socket.socket()
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        self.addCleanup(taken.close)
        port = taken.getsockname()[1]
        directory = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, directory)
        flags = ["txlb", "--listen", f"tcp:{port}:interface=127.0.0.1", "--backend", "127.0.0.1:1"]
        pidfile = os.path.join(directory, "twistd.pid")
        status, output = self.runCommand(TWISTD + ["-n", "--logfile=-", f"--pidfile={pidfile}"] + flags)
        self.assertEqual(status, 1)
        self.assertEqual(output.count("cannot listen"), 1, output)
        self.assertNotIn("Traceback", output)
        self.assertFalse(os.path.exists(pidfile))
        log = os.path.join(directory, "txlb.log")
        status, output = self.runCommand(TWISTD + [f"--logfile={log}", f"--pidfile={pidfile}"] + flags)
        self.assertEqual(status, 1)
        self.assertNotIn("Traceback", output)
        with open(log) as f:
            self.assertEqual(f.read().count("cannot listen"), 1)
        self.assertFalse(os.path.exists(pidfile))


class PasswordPromptTests(SynchronousTestCase):
    def test_promptsOnATerminal(self):
        """
        With --user and no password file, txlbctl asks on the terminal
        (getpass), naming the user.
        """
        from txlb.admin.ctl import readPassword

        class Terminal:
            def isatty(self):
                return True

        asked = []
        password = readPassword(None, "alice", Terminal(), lambda prompt: asked.append(prompt) or "s3cret")
        self.assertEqual((password, asked), ("s3cret", ["Password for alice: "]))

    def test_interrupted(self):
        """
        Ctrl-D or Ctrl-C at the prompt is one sentence.
        """
        from txlb.admin.ctl import readPassword

        class Terminal:
            def isatty(self):
                return True

        def ask(prompt):
            raise EOFError()

        error = self.assertRaises(ValueError, readPassword, None, "alice", Terminal(), ask)
        self.assertEqual(str(error), "no password given")
