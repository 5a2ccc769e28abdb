"""
Health: active checks, passive ejection, slow start and heartbeats.

Each part is an C{IService} child of its proxy service, named after the
part and the group (C{health:GROUP}, C{ejection:GROUP},
C{slowstart:GROUP}, C{heartbeat:GROUP}), so the admin finds them with
C{proxy.getServiceNamed(...)}.
"""

from txlb.health._build import healthServices
from txlb.health._checker import CheckStatus, HealthChecker
from txlb.health._ejection import PassiveEjector
from txlb.health._heartbeat import HeartbeatListener, parseUDPEndpoint
from txlb.health._probe import CheckFailed
from txlb.health._registry import allChecks, makeCheck
from txlb.health._sender import HeartbeatSender
from txlb.health._slowstart import SlowStart
from txlb.health._wire import Beat, BadDatagram, decode, encode, readKey

__all__ = [
    "BadDatagram",
    "Beat",
    "CheckFailed",
    "CheckStatus",
    "HealthChecker",
    "HeartbeatListener",
    "HeartbeatSender",
    "PassiveEjector",
    "SlowStart",
    "allChecks",
    "decode",
    "encode",
    "healthServices",
    "makeCheck",
    "parseUDPEndpoint",
    "readKey",
]
