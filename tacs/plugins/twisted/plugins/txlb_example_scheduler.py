"""
An example third-party scheduler, published as a Twisted plugin: put this
folder (tacs/plugins) on PYTHONPATH and ``--scheduler lightest`` finds it.

``lightest`` sends each client to the host that has moved the fewest bytes
so far (a toy policy, but a complete plugin).
"""

from txlb.schedulers import Scheduler, SchedulerFactory


class Lightest(Scheduler):
    """
    The host with the fewest bytes relayed so far. This sorts on every
    pick: fine for an example and a few hosts, not for thousands.
    """

    def candidates(self, client):
        return sorted(self.hosts, key=lambda h: h.bytesIn + h.bytesOut)


lightest = SchedulerFactory(
    name="lightest",
    description="example plugin: the host that has moved the fewest bytes",
    schedulerClass=Lightest,
)
