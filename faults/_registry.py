"""
The scenarios the runner knows, in the order it runs them.

To add a scenario: write a function C{run(long=False) -> Outcome} in a
module of this package, and add a L{Scenario} row to L{SCENARIOS} (and a
test in C{tests/test_faults_*.py} calling it).
"""

import attr

from faults import (
    accounting,
    attacks,
    badinput,
    descriptors,
    hardening,
    heartbeatreplay,
    integrity,
    midstream,
    resets,
    slowpeers,
    soak,
    stopping,
    timeouts,
)


@attr.s(frozen=True)
class Scenario:
    """
    A named scenario and the function running it.
    """

    name = attr.ib()
    run = attr.ib()


SCENARIOS = [
    Scenario(descriptors.IDLE, descriptors.idle),
    Scenario(integrity.NAME, integrity.run),
    Scenario(integrity.NORMAL, integrity.normal),
    Scenario(midstream.NAME, midstream.run),
    Scenario(resets.NAME, resets.run),
    Scenario(timeouts.SILENT, timeouts.silent),
    Scenario(timeouts.BACKLOG, timeouts.backlog),
    Scenario(slowpeers.READER, slowpeers.reader),
    Scenario(slowpeers.WRITER, slowpeers.writer),
    Scenario(descriptors.EMFILE, descriptors.emfile),
    Scenario(accounting.FLAPPING, accounting.flapping),
    Scenario(accounting.GARBAGE, accounting.garbage),
    Scenario(stopping.NAME, stopping.run),
    Scenario(badinput.NAME, badinput.run),
    Scenario(attacks.FUZZ, attacks.fuzz),
    Scenario(attacks.AUTH, attacks.auth),
    Scenario(attacks.HEARTBEATS, attacks.heartbeats),
    Scenario(hardening.IDLE, hardening.idle),
    Scenario(hardening.BODY, hardening.body),
    Scenario(hardening.GUESSING, hardening.guessing),
    Scenario(hardening.USERS, hardening.users),
    Scenario(hardening.MODES, hardening.modes),
    Scenario(heartbeatreplay.REPLAY, heartbeatreplay.replay),
    Scenario(heartbeatreplay.FLOOD, heartbeatreplay.flood),
    Scenario(soak.NAME, soak.run),
]
