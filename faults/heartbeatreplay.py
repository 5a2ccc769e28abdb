"""
Heartbeats against a real C{twistd txlb} with two groups sharing a key
and letting hosts register: a captured beat re-sent to the other group,
and valid beats among a flood of junk.
"""

import base64
import contextlib
import os
import shutil
import socket
import tempfile
import threading
import time
import uuid
import xmlrpc.client

from faults._clients import settle
from faults._outcome import Outcome, check
from faults._processes import BackendProcess, listening, startBalancer, usage
from txlb.health._wire import Beat, destination, encode

REPLAY = "heartbeat replayed to another group"
FLOOD = "heartbeats under a junk flood"

TAC = """
from txlb.config import Admin, Balancer, Group, Heartbeat, Service
from txlb.tac import application

application = application(Balancer(
    services=[
        Service(name, listen=["tcp:0:interface=127.0.0.1"], groups=[
            Group("g", heartbeat=Heartbeat("udp:0:interface=127.0.0.1", {key!r}, register=True,
                                           deadAfter=60.0)),
        ])
        for name in ("blue", "green")
    ],
    admin=Admin(["tcp:0:interface=127.0.0.1"]),
))
"""


@contextlib.contextmanager
def _twoGroups():
    directory = tempfile.mkdtemp(prefix="txlb-replay-")
    key = base64.b64encode(os.urandom(32))
    keyFile = os.path.join(directory, "key")
    with open(keyFile, "wb") as f:
        f.write(key)
    os.chmod(keyFile, 0o600)
    tac = os.path.join(directory, "groups.tac")
    with open(tac, "w") as f:
        f.write(TAC.format(key=keyFile))
    with contextlib.ExitStack() as stack:
        stack.callback(shutil.rmtree, directory, True)
        process, _ = startBalancer(stack, ["--config", tac], service="blue")
        found = process.waitFor(r"group g: heartbeats on udp 127\.0\.0\.1:(\d+)", count=2)
        ports = [int(m.group(1)) for m in found]
        rpc = xmlrpc.client.ServerProxy("http://%s:%d/RPC2" % listening(process, "admin"))
        yield stack, process, key, ports, rpc


def _hosts(rpc, service):
    return set(rpc.getStatus()[service]["groups"]["g"]["hosts"])


def replay(long=False):
    """
    Two groups share a key and let hosts register: beats captured on their
    way to one group and re-sent to the other, or again to the same one,
    are all dropped.
    """
    beats = 100 if long else 20
    problems = []
    with _twoGroups() as (stack, process, key, ports, rpc):
        backend = BackendProcess(stack, "echo")
        before = usage(process)
        blue, green = ports
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        stack.callback(udp.close)
        captured = []
        for i in range(beats):
            datagram = encode(Beat(f"h{i}", backend.address, 1, 0.0, "up", time.time(), uuid.uuid4().hex,
                                   destination("127.0.0.1", blue)), key)
            udp.sendto(datagram, ("127.0.0.1", blue))
            captured.append(datagram)
        process.waitFor(r"joined by heartbeat", count=beats)
        for datagram in captured:
            udp.sendto(datagram, ("127.0.0.1", green))
            udp.sendto(datagram, ("127.0.0.1", blue))
        process.waitFor(r"dropped heartbeat", count=1)
        joined = _hosts(rpc, "blue"), _hosts(rpc, "green")
        check(problems, len(joined[0]) == beats, f"{len(joined[0])} of {beats} hosts joined blue")
        check(problems, joined[1] == set(), f"{len(joined[1])} hosts joined green from copies")
        joins = sum(1 for line in process.lines if "joined by heartbeat" in line)
        check(problems, joins == beats, f"{joins} joins for {beats} beats")
        after = usage(process)
    return Outcome(
        REPLAY,
        f"{beats} beats signed for group blue, each then re-sent to group green (same key, "
        "registration on) and again to blue",
        f"{len(joined[0])} hosts joined blue, {len(joined[1])} joined green; every copy dropped "
        "(misdirected or replayed)",
        rss=(before[0], after[0]),
        fds=(before[1], after[1]),
        problems=problems,
    )


def flood(long=False):
    """
    Valid beats (each a new host registering) sent among junk datagrams
    sent as fast as one process can: at least 98% of the valid beats
    arrive (a host beats several times per deadAfter, so that keeps it up).
    """
    valid = 85
    seconds = 30.0 if long else 5.0
    problems = []
    with _twoGroups() as (stack, process, key, ports, rpc):
        backend = BackendProcess(stack, "echo")
        before = usage(process)
        blue = ports[0]
        stop = threading.Event()
        junk = [0]

        def flooder():
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                shaped = b"TXLB-HB2 " + b"0" * 64 + b' {"name":"x","to":"10.0.0.1:1"}'
                samples = [os.urandom(200), shaped, b"TXLB-HB2 " + os.urandom(300)]
                n = 0
                while not stop.is_set():
                    with contextlib.suppress(OSError):
                        s.sendto(samples[n % 3], ("127.0.0.1", blue))
                    n += 1
                junk[0] = n

        thread = threading.Thread(target=flooder)
        thread.start()
        started = time.monotonic()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            for i in range(valid):
                udp.sendto(encode(Beat(f"v{i}", backend.address, 1, 0.0, "up", time.time(), uuid.uuid4().hex,
                                       destination("127.0.0.1", blue)), key), ("127.0.0.1", blue))
                time.sleep(seconds / valid)  # the pace of the beats is what is measured
        stop.set()
        thread.join()
        elapsed = time.monotonic() - started
        # The last beats may still wait behind junk in the receive buffer.
        joined = settle(lambda: len(_hosts(rpc, "blue")), lambda n: n == valid, 5.0)
        # UDP may lose a datagram whenever txlb is off the CPU longer than
        # its receive buffer lasts under the flood; a host beats several
        # times per deadAfter, so one lost beat in fifty costs nothing.
        check(problems, joined >= valid * 0.98, f"only {joined} of {valid} valid beats arrived")
        rate = junk[0] / elapsed
        after = usage(process)
    return Outcome(
        FLOOD,
        f"{valid} valid beats over {elapsed:.1f} s among {junk[0]} junk datagrams ({rate:,.0f} a second)",
        f"{joined} of {valid} valid beats arrived",
        rss=(before[0], after[0]),
        fds=(before[1], after[1]),
        problems=problems,
    )
