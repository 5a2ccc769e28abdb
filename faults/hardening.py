"""
What a stranger who reaches the admin of a real C{twistd txlb} can do:
idle connections by the thousand, a huge body without credentials,
password guessing; and what an operator's mistakes on its files do: a bad
line in the users file, files anyone may read or write.
"""

import base64
import contextlib
import os
import re
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time

from tests.support import TWISTD, Process, ask
from txlb.admin import UserFile, hashPassword
from faults._clients import transfer
from faults._outcome import Outcome, check
from faults._processes import (
    BackendProcess, afterwards, fds, listening, quickStart, startBalancer, usage,
)

IDLE = "idle admin connections"
BODY = "huge unauthenticated admin request"
GUESSING = "admin password guessing"
USERS = "users file edited into a bad state"
MODES = "secret files anyone may read or write"
ADMIN = ["--admin", "tcp:0:interface=127.0.0.1"]
TXLBCTL = [sys.executable, "-c", "import sys; from txlb.admin.ctl import main; sys.exit(main())"]


def _users(directory, users, mode=0o600):
    path = os.path.join(directory, "users")
    UserFile(path).save({n: (role, hashPassword(pw)) for n, (role, pw) in users.items()})
    os.chmod(path, mode)
    return path


def _files(pid):
    found = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(OSError):
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
            if target.startswith("/") and not target.startswith(("/dev/", "/proc/")):
                found.append(target)
    return found


def idle(long=False):
    """
    Thousands of connections to the admin that never send a request, to a
    balancer limited to 1,024 descriptors: the relay serves every client
    meanwhile and txlbctl still answers.
    """
    count = 20000 if long else 2000
    clients = 300 if long else 30
    problems = []
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < count + 300:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(count + 300, hard), hard))
    with contextlib.ExitStack() as stack:
        backend = BackendProcess(stack, "echo")
        process, address = startBalancer(stack, quickStart([backend], *ADMIN), nofile=(1024, 1024))
        admin = listening(process, "admin")
        before = usage(process)
        idle = []
        stack.callback(lambda: [s.close() for s in idle])
        started = time.monotonic()
        for _ in range(count):
            try:
                idle.append(socket.create_connection(admin, timeout=5))
            except OSError:
                pass
        opened = time.monotonic() - started
        held = fds(process.popen.pid)
        results = []

        def client():
            payload = os.urandom(4096)
            results.append(transfer(address, payload, timeout=20).received == payload)

        threads = [threading.Thread(target=client) for _ in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        served = sum(results)
        check(problems, served == clients, f"{served}/{clients} relayed clients served")
        started = time.monotonic()
        ctl = Process(TXLBCTL + ["--url", "http://%s:%d/RPC2" % admin, "status"])
        stack.callback(ctl.stop)
        code = ctl.wait(60)
        answered = time.monotonic() - started
        check(problems, code == 0, f"txlbctl status exited {code}")
        check(problems, held < 200, f"txlb held {held} descriptors during the flood")
        check(problems, "Too many open files" not in process.output, "txlb ran out of descriptors")
        refusals = sum(1 for line in process.lines if "admin: refused" in line)
        for s in idle:
            s.close()
        idle.clear()
        after = afterwards(process, before)
    return Outcome(
        IDLE,
        f"{count} idle connections to the admin in {opened:.1f} s, txlb limited to 1024 descriptors; "
        f"{clients} relayed clients meanwhile, then txlbctl status",
        f"txlb held {held} descriptors; {served}/{clients} clients served; txlbctl answered in "
        f"{answered:.2f} s; the refusals logged in {refusals} line(s)",
        failed=clients - served,
        rss=(before[0], after[0]),
        fds=(before[1], after[1]),
        problems=problems,
    )


def body(long=False):
    """
    POSTs announcing 2 GiB without credentials: each answered 413 at once,
    while its body is still coming, and no file opened for it.
    """
    attempts = 100 if long else 20
    problems = []
    directory = tempfile.mkdtemp(prefix="txlb-body-")
    with contextlib.ExitStack() as stack:
        stack.callback(shutil.rmtree, directory, True)
        backend = BackendProcess(stack, "echo")
        users = _users(directory, {"root": ("admin", "right")})
        process, address = startBalancer(stack, quickStart([backend], *ADMIN, "--admin-users", users))
        admin = listening(process, "admin")
        before = usage(process)
        files = _files(process.popen.pid)
        slowest, sent = 0.0, 0
        for _ in range(attempts):
            with socket.create_connection(admin, timeout=10) as s:
                started = time.monotonic()
                s.sendall(b"POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Length: 2147483648\r\n\r\n")
                with contextlib.suppress(OSError):
                    for _ in range(16):
                        s.sendall(b"\0" * 65536)
                        sent += 65536
                answer = s.recv(4096)
                slowest = max(slowest, time.monotonic() - started)
                check(problems, answer.startswith(b"HTTP/1.1 413 "), f"answered {answer[:40]!r}")
            check(problems, _files(process.popen.pid) == files, "txlb opened a file for a request body")
        check(problems, slowest < 1.0, f"slowest answer took {slowest:.2f} s")
        payload = os.urandom(65536)
        check(problems, transfer(address, payload).received == payload, "relaying was disturbed")
        after = usage(process)
    return Outcome(
        BODY,
        f"{attempts} POSTs without credentials announcing 2 GiB, {sent // 1048576} MiB of body sent in all",
        f"all answered 413, slowest after {slowest * 1000:.0f} ms; no file opened; relaying intact",
        rss=(before[0], after[0]),
        fds=(before[1], after[1]),
        problems=problems,
    )


def guessing(long=False):
    """
    Unknown users and wrong passwords take the same time; one source
    guessing is slowed after three failures and refused after ten; other
    sources are not affected.
    """
    samples = 15 if long else 5
    problems = []
    directory = tempfile.mkdtemp(prefix="txlb-guess-")
    with contextlib.ExitStack() as stack:
        stack.callback(shutil.rmtree, directory, True)
        backend = BackendProcess(stack, "echo")
        users = _users(directory, {"root": ("admin", "right")})
        process, _ = startBalancer(stack, quickStart([backend], *ADMIN, "--admin-users", users))
        admin = listening(process, "admin")
        before = usage(process)
        unknown = [ask(admin, user="nobody", password="x", source=f"127.0.1.{i + 1}")[2] for i in range(samples)]
        wrong = [ask(admin, user="root", password="x", source=f"127.0.2.{i + 1}")[2] for i in range(samples)]
        a, b = statistics.median(unknown), statistics.median(wrong)
        ratio = max(a, b) / min(a, b)
        check(problems, ratio < 2.0, f"unknown {a * 1000:.0f} ms, wrong password {b * 1000:.0f} ms")
        started = time.monotonic()
        statuses = []
        while time.monotonic() - started < 20 and 429 not in statuses:
            statuses.append(ask(admin, user="root", password=f"guess{len(statuses)}", source="127.0.3.1")[0])
        guessed = time.monotonic() - started
        check(problems, statuses[-1] == 429, f"still {statuses[-1]} after {len(statuses)} guesses")
        check(problems, ask(admin, user="root", password="right", source="127.0.3.1")[0] == 429, "the guesser got in")
        check(problems, ask(admin, user="root", password="right", source="127.0.3.2")[0] == 200, "another source was refused")
        logged = sum(1 for line in process.lines if "failed logins from 127.0.3.1" in line)
        check(problems, logged == 1, f"the guessing source was logged {logged} times")
        after = usage(process)
    return Outcome(
        GUESSING,
        f"{samples} unknown users and {samples} wrong passwords, each from its own address; "
        "then one address guessing until refused",
        f"median answer {a * 1000:.0f} ms unknown, {b * 1000:.0f} ms wrong password (ratio {ratio:.2f}); "
        f"{len(statuses) - 1} guesses in {guessed:.1f} s before 429; logged once",
        rss=(before[0], after[0]),
        fds=(before[1], after[1]),
        problems=problems,
    )


def users(long=False):
    """
    A user removed from the users file while a malformed line is added:
    refused within about a second, the others unaffected.
    """
    problems = []
    directory = tempfile.mkdtemp(prefix="txlb-users-")
    with contextlib.ExitStack() as stack:
        stack.callback(shutil.rmtree, directory, True)
        backend = BackendProcess(stack, "echo")
        path = _users(directory, {"root": ("admin", "right"), "bob": ("readonly", "bob")})
        process, _ = startBalancer(stack, quickStart([backend], *ADMIN, "--admin-users", path))
        admin = listening(process, "admin")
        check(problems, ask(admin, user="bob", password="bob")[0] == 200, "bob could not log in before")
        with open(path) as f:
            lines = [line for line in f if not line.startswith("bob:")]
        with open(path, "w") as f:
            f.writelines(lines + ["bob:admin:not-a-hash\n", "garbage\n"])
        edited = time.monotonic()
        process.waitFor(r"users re-read: 1 users, 2 bad lines skipped", timeout=10)
        check(problems, ask(admin, user="bob", password="bob")[0] == 401, "the removed user still got in")
        took = time.monotonic() - edited
        check(problems, took < 2.5, f"bob kept access for {took:.1f} s")
        check(problems, ask(admin, user="root", password="right")[0] == 200, "root lost access")
        skipped = [line for line in process.lines if re.search(r"line \d+ skipped", line)]
        check(problems, len(skipped) == 2, f"{len(skipped)} bad lines logged, not 2")
    return Outcome(
        USERS,
        "a user removed from the users file while two malformed lines are added",
        f"the removed user refused {took:.1f} s after the edit; the other kept access; "
        f"{len(skipped)} bad lines logged with their numbers",
        problems=problems,
    )


def modes(long=False):
    """
    Users and heartbeat key files every user may read: warned about;
    every user may write: txlb does not start.
    """
    problems = []
    directory = tempfile.mkdtemp(prefix="txlb-modes-")
    with contextlib.ExitStack() as stack:
        stack.callback(shutil.rmtree, directory, True)
        path = _users(directory, {"root": ("admin", "right")}, mode=0o644)
        key = os.path.join(directory, "key")
        with open(key, "wb") as f:
            f.write(base64.b64encode(os.urandom(32)))
        os.chmod(key, 0o644)
        flags = ["--listen", "tcp:0:interface=127.0.0.1", "--backend", "127.0.0.1:1"]
        heartbeat = ["--heartbeat", "udp:0:interface=127.0.0.1", "--heartbeat-key-file", key]
        process, _ = startBalancer(stack, flags + ADMIN + ["--admin-users", path] + heartbeat)
        listening(process, "admin")
        warned = [line for line in process.lines if "is readable by every user" in line]
        check(problems, len(warned) == 2, f"{len(warned)} warnings, not 2")
        process.stop()
        refused = 0
        for target, args in [(path, ADMIN + ["--admin-users", path]), (key, heartbeat)]:
            os.chmod(target, 0o666)
            stopped = Process([*TWISTD, "-n", "--pidfile=",
                               "--logfile=-", "txlb", *flags, *args])
            stack.callback(stopped.stop)
            code = stopped.wait(30)
            ok = code != 0 and "is writable by every user" in stopped.output and "Traceback" not in stopped.output
            refused += ok
            check(problems, ok, f"a world-writable {os.path.basename(target)} file: exit {code}")
            os.chmod(target, 0o600)
    return Outcome(
        MODES,
        "a users file and a heartbeat key file of mode 0644, then each of mode 0666",
        f"{len(warned)} warnings for the readable files; {refused}/2 writable ones refused with a sentence",
        problems=problems,
    )
