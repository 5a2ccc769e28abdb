"""
The base of the health services that watch a pool.
"""

from twisted.application.service import Service
from zope.interface import implementer

from txlb.interfaces import IPoolObserver


@implementer(IPoolObserver)
class PoolWatcher(Service):
    """
    An C{IService} that observes one pool while it runs; subclasses
    override the L{IPoolObserver} methods they care about and L{stopped}
    to drop their timers.
    """

    kind = "watch"

    def __init__(self, pool):
        self.pool = pool
        self.setName(f"{self.kind}:{pool.name}")

    def startService(self):
        Service.startService(self)
        self.pool.addObserver(self)
        self.started()

    def stopService(self):
        Service.stopService(self)
        self.pool.removeObserver(self)
        self.stopped()

    def started(self):
        """
        Called once the service runs and observes the pool.
        """

    def stopped(self):
        """
        Called once the service stopped; cancel every timer here.
        """

    def connectFailed(self, pool, host, reason):
        pass

    def connectSucceeded(self, pool, host):
        pass

    def stateChanged(self, pool, host, change):
        pass


def cancelTimer(timer):
    """
    Cancel a C{DelayedCall} unless it is None, ran or was cancelled.
    """
    if timer is not None and timer.active():
        timer.cancel()
