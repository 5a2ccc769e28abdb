"""
Sharing a fleet's description through etcd (see doc/scale-out.rst): a
Twisted client of etcd's JSON gateway, the store a balancer keeps in step
with, and the agent that registers a backend under a lease.
"""

from txlb.etcd._client import EtcdClient, EtcdError, EtcdUnavailable
from txlb.etcd._share import share
from txlb.etcd._store import SharedStore
from txlb.etcd._watch import Compacted, Watch

__all__ = ["EtcdClient", "EtcdError", "EtcdUnavailable", "SharedStore", "Watch", "Compacted", "share"]
