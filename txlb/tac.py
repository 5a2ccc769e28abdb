"""
What the last line of a C{.tac} file calls:
C{application = application(Balancer(...))}.
"""

from contextvars import ContextVar

from twisted.application.service import Application

from txlb._tacboundary import tacBoundary
from txlb.builder import Builder

#: The builder C{twistd txlb --config} (or C{--workers}) loads a C{.tac}
#: with; unset under C{twistd -ny}, where each application builds alone.
loadingWith = ContextVar("loadingWith", default=None)


@tacBoundary
def application(balancer, name="txlb", reactor=None):
    """
    Build C{balancer} (a L{txlb.config.Balancer}) into a twistd
    C{Application}.

    @param reactor: the reactor to run on; the global one when None.
    """
    builder = loadingWith.get()
    if builder is None:
        if reactor is None:
            from twisted.internet import reactor
        builder = Builder(reactor)
    app = Application(name)
    builder.balancer(balancer).setServiceParent(app)
    return app
