"""
Attaching a L{SharedStore} to a freshly built balancer.
"""

from txlb.etcd._admin import SharedAdminAPI
from txlb.etcd._client import EtcdClient
from txlb.etcd._store import SharedStore


def share(balancer, builder, spec):
    """
    Make C{balancer} (built by C{builder}) share its services through the
    etcd cluster C{spec} (a L{txlb.config.Etcd}): add the store, and route
    its admins' description changes through it. In worker 0 of several,
    changes reach the other workers through worker 0's admin broadcast.
    """
    from txlb.admin import AdminService
    from txlb.admin._api import AdminAPI
    from txlb.workers._admin import WorkerAdminAPI

    api = AdminAPI(balancer, builder)
    if balancer.workers is not None:
        api = WorkerAdminAPI(api, balancer.workers)
    client = EtcdClient(builder.reactor, spec.endpoints)
    store = SharedStore(client, spec.prefix, balancer, api, builder, builder.clock)
    store.setServiceParent(balancer)
    balancer.store = store
    for child in list(balancer):
        if isinstance(child, AdminService):
            child.useAPI(SharedAdminAPI(child.api, store))
    return store
