"""
The factory every built-in scheduler (and most plugins) publish.
"""

import attr
from twisted.plugin import IPlugin
from zope.interface import implementer

from txlb.errors import ConfigError
from txlb.interfaces import ISchedulerFactory


@implementer(IPlugin, ISchedulerFactory)
@attr.s(frozen=True)
class SchedulerFactory:
    """
    A scheduler factory made from a class (or any callable) that takes
    C{clock}, C{random} and the scheduler's own keyword options.

    It provides C{IPlugin} too, so that a third-party package can publish
    one by assigning it to a name in a module of its C{twisted/plugins/}.

    @ivar options: the option names the scheduler accepts, mapped to a
        function that turns the user's string into the value.
    """

    name = attr.ib()
    description = attr.ib()
    schedulerClass = attr.ib()
    aliases = attr.ib(default=())
    options = attr.ib(factory=dict)

    def makeScheduler(self, options, clock, random):
        kwargs = {}
        for key, text in options.items():
            convert = self.options.get(key)
            if convert is None:
                known = ", ".join(sorted(self.options)) or "none"
                raise ConfigError(
                    f"scheduler {self.name!r} has no option {key!r} (its options: {known})"
                )
            try:
                kwargs[key] = convert(text)
            except (TypeError, ValueError) as e:
                raise ConfigError(
                    f"scheduler {self.name!r} option {key}={text!r} is not valid: {e}"
                ) from None
        return self.schedulerClass(clock=clock, random=random, **kwargs)
