"""
Turning a group's health description into services.
"""

from txlb.errors import ConfigError
from txlb.health._checker import HealthChecker
from txlb.health._ejection import PassiveEjector
from txlb.health._heartbeat import HeartbeatListener, keyWarning
from txlb.health._registry import makeCheck
from txlb.health._slowstart import SlowStart
from txlb.health._wire import readKey


def healthServices(spec, pool, reactor, clock, random, makeHost):
    """
    The health services a L{txlb.config.Group} asks for, not yet started,
    and the pool's all-down policy set.

    @param makeHost: C{makeHost(name, address, weight)} makes a L{Backend}
        for a host that joins by heartbeat.
    @raise ConfigError: for a bad check or an unreadable key file.
    """
    services = []
    pool.allDown = spec.allDown
    check = spec.check
    if check is not None:
        services.append(
            HealthChecker(
                pool,
                makeCheck(check.kind, reactor, check.options),
                clock,
                random,
                interval=check.interval,
                timeout=check.timeout,
                rise=check.rise,
                fall=check.fall,
                jitter=check.jitter,
                maxInterval=check.maxInterval,
            )
        )
    ejection = spec.ejection
    if ejection is not None:
        services.append(
            PassiveEjector(
                pool,
                clock,
                failures=ejection.failures,
                ejectionTime=ejection.time,
                maxEjectionTime=ejection.maxTime,
                maxShare=ejection.maxShare,
                returnHosts=check is None,
            )
        )
    if spec.slowStart is not None:
        services.append(SlowStart(pool, clock, spec.slowStart))
    heartbeat = spec.heartbeat
    if heartbeat is not None:
        try:
            key = readKey(heartbeat.keyFile, warn=keyWarning)
        except ValueError as e:
            raise ConfigError(f"group {spec.name!r}: {e}") from None
        services.append(
            HeartbeatListener(
                pool,
                reactor,
                heartbeat.listen,
                key,
                makeHost,
                clock=clock,
                deadAfter=heartbeat.deadAfter,
                register=heartbeat.register,
                leaveAfter=heartbeat.leaveAfter,
                maxAge=heartbeat.maxAge,
            )
        )
    return services
