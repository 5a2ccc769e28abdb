"""
One sentence, not a traceback, for a mistake in a C{.tac} that C{twistd -y}
runs.

twistd loads the file itself (C{twisted.persisted.sob.loadValueFromFile})
and prints a traceback for any exception. The value objects of
L{txlb.config} and L{txlb.tac.application} are wrapped with L{tacBoundary}:
when one of them, called straight from a line of the C{.tac} twistd is
loading, raises L{ConfigError} (or a C{TypeError}, such as a misspelt
keyword), the process exits with the sentence C{twistd txlb --config}
gives for the same file (L{sentence}), naming the file and line. Only the
call from the .tac's own line is turned into an exit, so code inside txlb
may still catch a L{ConfigError}.
"""

import functools
import os
import re
import sys

from txlb.errors import ConfigError, UnknownScheduler

_PLUGIN_HINT = (
    "; a scheduler plugin is found only when the directory holding its twisted/plugins/ "
    "is on PYTHONPATH (for the example: PYTHONPATH=tacs/plugins)"
)


def sentence(path, line, error):
    """
    The one sentence shown for C{error} raised at C{line} of the .tac at
    C{path}.
    """
    shown = os.path.basename(path) if path else path
    if isinstance(error, ConfigError):
        message = str(error)
        if isinstance(error, UnknownScheduler):
            message += _PLUGIN_HINT
        return f"{shown}, line {line}: {message}"
    message = str(error) or "(no message)"
    if isinstance(error, ImportError) and error.name == "txlb.config" and "'application'" in message:
        message += " (import it with: from txlb.tac import application)"
    return f"{shown}, line {line}: {error.__class__.__name__}: {message}"


def _loader():
    from twisted.persisted import sob

    return sob.loadValueFromFile.__code__


def twistdTac(frame):
    """
    The path of the .tac file that C{twistd -y} is running in C{frame}'s
    stack, or None.
    """
    loader = _loader()
    while frame is not None:
        if frame.f_code is loader:
            return frame.f_locals.get("filename")
        frame = frame.f_back
    return None


def tacBoundary(function, name=None):
    """
    Wrap C{function} (a value object class's C{__init__}, or
    C{application}) so that a C{TypeError} from calling it becomes a
    L{ConfigError}, and so that a mistake made on a line of the .tac twistd
    is loading ends the process with one sentence.

    @param name: what the user called (a class name), named in the
        sentence instead of C{__init__}.
    """
    prefix = f"{name}()" if name else None

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except (ConfigError, TypeError) as e:
            error = e
            if isinstance(e, TypeError):
                message = str(e)
                if prefix is not None:
                    # CPython says "Host.__init__() got ...", PyPy "__init__() got ...".
                    message = re.sub(r"^(\w+\.)?__init__\(\)", prefix, message)
                error = ConfigError(message.replace(".__init__()", "()"))
            caller = sys._getframe(1)
            tac = twistdTac(caller)
            if tac is not None and caller.f_code.co_filename == tac:
                raise SystemExit(f"twistd: {sentence(tac, caller.f_lineno, error)}") from None
            if error is e:
                raise
            raise error from None

    return wrapper


def valueObject(cls):
    """
    Make C{cls}'s constructor a L{tacBoundary} (a class decorator for the
    value objects of L{txlb.config}).
    """
    cls.__init__ = tacBoundary(cls.__init__, cls.__name__)
    return cls


def movedName(module, name):
    """
    For a module's C{__getattr__}: the C{AttributeError} for C{name}, or,
    when a .tac that twistd is loading imports it, an exit with the
    sentence L{sentence} gives for that C{ImportError} (naming the file
    and line, and where the name went).
    """
    frame = sys._getframe(2)
    tac = twistdTac(frame)
    if tac is not None:
        while frame is not None and frame.f_code.co_filename != tac:
            frame = frame.f_back
        if frame is not None:
            error = ImportError(f"cannot import name {name!r} from {module!r}", name=module)
            raise SystemExit(f"twistd: {sentence(tac, frame.f_lineno, error)}")
    return AttributeError(f"module {module!r} has no attribute {name!r}")
