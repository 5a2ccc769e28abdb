"""
The schedulers: built-in ones and those found as Twisted plugins.

C{makeScheduler("roundrobin")} (or C{"hash:load=1.25"}) makes one;
C{knownSchedulers()} lists every name with its description. Plugin authors
subclass L{Scheduler} (giving its C{candidates}, and updating their
structure in its change hooks or in slices with L{SlicedRebuild}) and
publish a L{SchedulerFactory} (see C{doc/schedulers.rst}).
"""

from txlb.schedulers._base import WALK, Scheduler, clientKey, firstAvailable
from txlb.schedulers._factory import SchedulerFactory
from txlb.schedulers._sliced import SlicedRebuild
from txlb.schedulers._registry import (
    builtinFactories,
    knownSchedulers,
    makeScheduler,
    parseSchedulerSpec,
    schedulerFactory,
)

__all__ = [
    "WALK",
    "Scheduler",
    "SchedulerFactory",
    "SlicedRebuild",
    "clientKey",
    "firstAvailable",
    "builtinFactories",
    "knownSchedulers",
    "makeScheduler",
    "parseSchedulerSpec",
    "schedulerFactory",
]
