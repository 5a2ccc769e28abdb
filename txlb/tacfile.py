"""
Loading a C{.tac} file for C{twistd txlb --config}, with one clear sentence
(naming the file and line) for whatever is wrong in it.

C{twistd -y FILE.tac} gives the same sentences: see L{txlb._tacboundary}.
"""

import os
import traceback

from twisted.application.service import IService

from txlb._tacboundary import sentence
from txlb.errors import ConfigError
from txlb._loading import loadingWith


def _lineIn(path, tb):
    line = None
    for frame in traceback.extract_tb(tb):
        if frame.filename == path:
            line = frame.lineno
    return line


def loadTac(path, builder=None):
    """
    Run the C{.tac} file at C{path} and return the L{IService} of the
    C{application} it defines.

    @param builder: the L{txlb.builder.Builder} that
        L{txlb.tac.application} builds with while the file runs (one made
        on the global reactor when None).

    @raise ConfigError: for a missing or unreadable file, a syntax error,
        an exception while it runs, no C{application}, or an C{application}
        that is not a twistd Application.
    """
    shown = os.path.basename(path) if path else path
    try:
        with open(path, encoding="utf-8") as f:
            source = f.read()
    except (OSError, UnicodeDecodeError) as e:
        reason = getattr(e, "strerror", None) or str(e)
        raise ConfigError(f"cannot read {path}: {reason}") from None
    try:
        code = compile(source, path, "exec")
    except SyntaxError as e:
        raise ConfigError(f"{shown}, line {e.lineno}: {e.msg}") from None
    namespace = {"__file__": path, "__name__": "__tac__"}
    token = loadingWith.set(builder)
    try:
        exec(code, namespace)
    except Exception as e:
        raise ConfigError(sentence(path, _lineIn(path, e.__traceback__), e)) from None
    finally:
        loadingWith.reset(token)
    if "application" not in namespace:
        raise ConfigError(
            f"{shown} defines no 'application' (end it with "
            "application = txlb.config.application(Balancer(...)))"
        )
    application = namespace["application"]
    service = IService(application, None)
    if service is None:
        raise ConfigError(
            f"{shown}: 'application' is a {type(application).__name__}, not a "
            "twistd Application (make it with txlb.config.application(...))"
        )
    return service


class _Describer:
    """
    Stands in for the builder while a C{.tac} runs for its description:
    keeps the L{txlb.config.Balancer} given to C{application(...)} and
    builds nothing (nothing is bound, no file is read but the .tac).
    """

    def __init__(self):
        self.specs = []

    def balancer(self, spec):
        from txlb.balancer import LoadBalancer

        self.specs.append(spec)
        return LoadBalancer(None, spec)


def describeTac(path):
    """
    The description (the L{txlb.config.Balancer} given to
    C{application(...)}) of the C{.tac} file at C{path}, without building
    or binding anything.

    @raise ConfigError: as L{loadTac} does, or when the file makes its
        application without C{txlb.tac.application}.
    """
    describer = _Describer()
    loadTac(path, describer)
    if not describer.specs:
        shown = os.path.basename(path) if path else path
        raise ConfigError(
            f"{shown} does not describe a balancer with application(Balancer(...)), "
            "so it cannot be compared or applied"
        )
    return describer.specs[-1]
