"""
The schedulers: built-in ones and those found as Twisted plugins.

C{makeScheduler("roundrobin")} (or C{"hash:load=1.25"}) makes one;
C{knownSchedulers()} lists every name with its description.
"""

from txlb.schedulers._registry import (
    builtinFactories,
    knownSchedulers,
    makeScheduler,
    parseSchedulerSpec,
    schedulerFactory,
)

__all__ = [
    "builtinFactories",
    "knownSchedulers",
    "makeScheduler",
    "parseSchedulerSpec",
    "schedulerFactory",
]
