"""
What the last line of a C{.tac} file calls:
C{application = application(Balancer(...))}.
"""

import sys

from twisted.application.service import Application

from txlb._loading import loadingWith
from txlb._tacboundary import tacBoundary, twistdTac
from txlb.builder import Builder
from txlb.operatorsignals import handleSignals
from txlb.reload import reconfigurable


@tacBoundary
def application(balancer, name="txlb", reactor=None):
    """
    Build C{balancer} (a L{txlb.config.Balancer}) into a twistd
    C{Application}.

    @param reactor: the reactor to run on; the global one when None.
    """
    builder = loadingWith.get()
    alone = builder is None
    if alone:
        if reactor is None:
            from twisted.internet import reactor
        builder = Builder(reactor)
    app = Application(name)
    top = builder.balancer(balancer)
    if alone:
        # Under twistd -y this is the whole process; twistd txlb --config
        # adds the same itself: the operator's signals, and a reload of the
        # .tac twistd runs on SIGHUP.
        handleSignals(top, builder.reactor)
        tac = twistdTac(sys._getframe(1))
        if tac is not None:
            reconfigurable(top, builder, tac, None, None, False)
    top.setServiceParent(app)
    return app
