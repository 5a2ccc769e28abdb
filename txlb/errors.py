"""
The exceptions txlb raises where a user or a peer can cause them.

Each carries one sentence meant to be shown to a person as it is.
"""


class ConfigError(ValueError):
    """
    A configuration value (a flag, an endpoint, a weight, a .tac) is wrong.

    The message is one sentence naming the problem.
    """


class NoHostAvailable(Exception):
    """
    A scheduler or a pool has no host it may hand out right now.
    """


class UnknownScheduler(ConfigError):
    """
    A scheduler name matched neither a built-in scheduler nor a plugin.
    """
