"""
Attacks on the admin and the heartbeat listener of a real C{twistd txlb}:
fuzzed XML-RPC calls and bodies, credential games, forged datagrams. None
may change anything, leak a traceback, or disturb the relaying.
"""

import base64
import contextlib
import http.client
import os
import random
import socket
import string
import tempfile
import time
import uuid
import xmlrpc.client

from txlb.admin import METHODS, UserFile, hashPassword
from faults._outcome import Outcome, check
from faults._processes import BackendProcess, listening, quickStart, startBalancer, usage
from faults._clients import transfer, settle

FUZZ = "admin under fuzzing"
AUTH = "admin authentication"
HEARTBEATS = "heartbeats"
ADMIN = ["--admin", "tcp:0:interface=127.0.0.1"]


def _post(address, body, headers=None, method="POST", path="/RPC2", source=None):
    """
    Send one raw request (from the IP address C{source} if given); return
    C{(status, body text)}, or C{(None, why)} when the admin closed the
    connection without an answer.
    """
    connection = http.client.HTTPConnection(*address, timeout=30,
                                            source_address=(source, 0) if source else None)
    try:
        connection.request(method, path, body=body, headers=headers or {"Content-Type": "text/xml"})
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    except (OSError, http.client.HTTPException) as e:
        return None, str(e)
    finally:
        connection.close()


def _randomValue(rng, depth=0):
    kind = rng.randrange(8 if depth < 2 else 5)
    if kind == 0:
        return "".join(rng.choice(string.printable) for _ in range(rng.randrange(0, 40)))
    if kind == 1:
        return rng.randint(-(2**31), 2**31 - 1)
    if kind == 2:
        return rng.uniform(-1e9, 1e9)
    if kind == 3:
        return rng.random() < 0.5
    if kind == 4:
        return "x" * rng.choice([0, 1, 1000, 100000])
    if kind == 5:
        return [_randomValue(rng, depth + 1) for _ in range(rng.randrange(4))]
    if kind == 6:
        return {f"k{i}": _randomValue(rng, depth + 1) for i in range(rng.randrange(4))}
    return xmlrpc.client.Binary(os.urandom(rng.randrange(64)))


_BODIES = {
    "malformed XML": b"<methodCall><methodName>getStatus</methodName><params><param>",
    "not XML": os.urandom(4096),
    "empty body": b"",
    "huge body (8 MiB)": b"<methodCall><methodName>getStatus</methodName><params>"
    + b"<param><value><string>" + b"A" * (8 << 20) + b"</string></value></param></params></methodCall>",
    "entity expansion": (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + b"".join(
            b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
            for i in range(1, 10)
        )
        + b"]><methodCall><methodName>&lol9;</methodName></methodCall>"
    ),
    "unknown method": xmlrpc.client.dumps((), "nosuch.method").encode(),
}


def fuzz(long=False):
    """
    Random XML-RPC calls (every method name and random ones, random
    argument types and sizes) and hostile bodies against the admin: only
    Faults or 4xx answers, no traceback, nothing changed, relaying intact.
    """
    rng = random.Random(20261125)
    calls = 3000 if long else 300
    problems = []
    with contextlib.ExitStack() as stack:
        backend = BackendProcess(stack, "echo")
        process, address = startBalancer(stack, quickStart([backend], *ADMIN))
        admin = listening(process, "admin")
        rpc = xmlrpc.client.ServerProxy("http://%s:%d/RPC2" % admin)
        before = rpc.getConfig()
        names = [m for m in METHODS if m != "shutdown"] + ["nosuch", "system.nosuch", "_private", "", "getStatus."]
        faults = accepted = 0
        for _ in range(calls):
            name = rng.choice(names)
            args = [_randomValue(rng) for _ in range(rng.randrange(6))]
            try:
                getattr(rpc, name)(*args)
                accepted += 1
            except xmlrpc.client.Fault as fault:
                faults += 1
                check(problems, "Traceback" not in fault.faultString, f"{name}: traceback in a fault")
            except (xmlrpc.client.ProtocolError, OSError) as e:
                problems.append(f"{name}{tuple(map(type, args))}: {e}")
        check(problems, rpc.getConfig() == before, "random calls changed the configuration")
        statuses = []
        for label, body in _BODIES.items():
            status, text = _post(admin, body)
            statuses.append(f"{label}: {status}")
            check(problems, status is not None and status < 500, f"{label}: answered {status}")
            check(problems, "Traceback" not in text, f"{label}: traceback in the answer")
        for method in ("GET", "PUT", "DELETE"):
            status, text = _post(admin, b"", method=method)
            check(problems, status is not None and status < 500 and "Traceback" not in text, f"{method}: {status}")
        check(problems, rpc.getConfig() == before, "hostile bodies changed the configuration")
        payload = os.urandom(65536)
        check(problems, transfer(address, payload).received == payload, "relaying was disturbed")
        rss, fds = usage(process)
    return Outcome(
        FUZZ,
        f"{calls} random calls ({accepted} accepted, {faults} faults), "
        f"{len(_BODIES)} hostile bodies, 3 wrong HTTP methods",
        "; ".join(statuses[:3]) + "; relaying intact",
        failed=0,
        rss=(None, rss),
        fds=(None, fds),
        problems=problems,
    )


def _header(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def auth(long=False):
    """
    Credential games against an admin with users: no header, malformed
    headers, wrong users and passwords, very long credentials, and a
    read-only user calling every write method: zero bypasses.
    """
    problems = []
    directory = tempfile.mkdtemp(prefix="txlb-auth-")
    users = os.path.join(directory, "users")
    open(users, "w").close()
    UserFile(users).save({"root": ("admin", hashPassword("right")), "viewer": ("readonly", hashPassword("look"))})
    attempts = {
        "no header": None,
        "not base64": "Basic !!!***",
        "no colon": "Basic " + base64.b64encode(b"rootright").decode(),
        "other scheme": "Bearer right",
        "wrong user": _header("nobody", "right"),
        "wrong password": _header("root", "wrong"),
        "empty password": _header("root", ""),
        "long user": _header("u" * 100000, "right"),
        "long password": _header("root", "p" * 100000),
        "unicode": _header("röot", "rîght"),
    }
    bypasses = 0
    with contextlib.ExitStack() as stack:
        backend = BackendProcess(stack, "echo")
        process, _ = startBalancer(stack, quickStart([backend], *ADMIN, "--admin-users", users))
        admin = listening(process, "admin")
        body = xmlrpc.client.dumps((), "getConfig").encode()
        for number, (label, header) in enumerate(attempts.items()):
            headers = {"Content-Type": "text/xml"}
            if header is not None:
                headers["Authorization"] = header
            # Each label from its own address, so that the back-off of
            # repeated failures (its own scenario) does not slow this one.
            source = f"127.0.4.{number + 1}"
            for path in ("/RPC2", "/", "/metrics"):
                status, _ = _post(admin, body, headers, method="POST" if path == "/RPC2" else "GET", path=path,
                                  source=source)
                # A refusal is a 401, or for headers past the HTTP server's
                # line limit a 4xx or a closed connection.
                refused = status == 401 or (label.startswith("long") and (status is None or 400 <= status < 500))
                if not refused:
                    bypasses += 1 if status is not None and status < 400 else 0
                    problems.append(f"{label} on {path}: answered {status}, not 401")
        viewer = xmlrpc.client.ServerProxy("http://viewer:look@%s:%d/RPC2" % admin)
        root = xmlrpc.client.ServerProxy("http://root:right@%s:%d/RPC2" % admin)
        before = root.getConfig()
        samples = {"string": "default", "int": 1, "double": 1.0, "struct": {}, "array": [], "int|struct": 1}
        writes = [(name, spec) for name, (spec, _, w, _) in METHODS.items() if w]
        for name, spec in writes:
            try:
                getattr(viewer, name)(*[samples[kind] for _, kind in spec])
                bypasses += 1
                problems.append(f"readonly user could call {name}")
            except xmlrpc.client.Fault as fault:
                check(problems, fault.faultCode == 4, f"readonly {name}: fault {fault.faultCode}")
        check(problems, root.getConfig() == before, "a refused call changed the configuration")
        check(problems, "right" not in open(users).read().split(":", 2)[-1].split("scrypt")[0], "plain password stored")
        check(problems, "p" * 1000 not in process.output, "a long password was logged")
    return Outcome(
        AUTH,
        f"{len(attempts)} bad credentials x 3 paths; readonly user on all {len(writes)} write methods",
        f"{bypasses} bypasses; every bad credential got 401, every readonly write fault 4",
        problems=problems,
    )


def heartbeats(long=False):
    """
    Forged, replayed, stale, truncated, oversized and garbled heartbeats:
    none accepted, the one correctly signed heartbeat still works.
    """
    from txlb.health._wire import Beat, encode

    problems = []
    directory = tempfile.mkdtemp(prefix="txlb-hb-")
    keyFile = os.path.join(directory, "key")
    key = base64.b64encode(os.urandom(32))
    with open(keyFile, "wb") as f:
        f.write(key)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with contextlib.ExitStack() as stack:
        backend = BackendProcess(stack, "echo")
        process, address = startBalancer(
            stack, ["--listen", "tcp:0:interface=127.0.0.1", *ADMIN,
                    "--heartbeat", f"udp:{port}:interface=127.0.0.1", "--heartbeat-key-file", keyFile]
        )
        admin = listening(process, "admin")
        rpc = xmlrpc.client.ServerProxy("http://%s:%d/RPC2" % admin)

        def beat(name, when=None, signWith=key):
            return encode(Beat(name, backend.address, 1, 0.0, "up", when or time.time(), uuid.uuid4().hex,
                               f"127.0.0.1:{port}"), signWith)

        valid = beat("good")
        bad = {
            "garbage": os.urandom(200),
            "unsigned": b"TXLB-HB2 " + valid.split(b" ", 2)[2],
            "wrong key": beat("forged", signWith=os.urandom(32)),
            "stale": beat("stale", when=time.time() - 3600),
            "from the future": beat("future", when=time.time() + 3600),
            "truncated": valid[: len(valid) // 2],
            "oversized": valid + b" " * 2048,
            "tampered": valid.replace(b'"good"', b'"evil"'),
        }
        sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        stack.callback(sender.close)
        for datagram in bad.values():
            sender.sendto(datagram, ("127.0.0.1", port))
        sender.sendto(valid, ("127.0.0.1", port))
        hosts = lambda: rpc.getStatus()["default"]["groups"]["default"]["hosts"]
        settle(lambda: set(hosts()), lambda names: "good" in names, 10)
        sender.sendto(valid, ("127.0.0.1", port))
        for _ in range(50):
            sender.sendto(os.urandom(100), ("127.0.0.1", port))
        joined = set(hosts())
        check(problems, joined == {"good"}, f"hosts after the attack: {sorted(joined)}")
        payload = os.urandom(4096)
        check(problems, transfer(address, payload).received == payload, "relaying through the good host failed")
    return Outcome(
        HEARTBEATS,
        f"{len(bad)} kinds of bad datagram, a replay and 50 random ones around one valid heartbeat",
        "0 accepted; the valid heartbeat joined its host and clients reached it",
        problems=problems,
    )
