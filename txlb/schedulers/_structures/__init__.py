"""
Pure data structures behind the schedulers: no Twisted, no hosts, only
indexes (or opaque owners) and weights. Each answers a lookup in O(1) or
O(log n); those that are changed in place say so, and those too large to
build at once are built in steps (see C{_steps}).
"""

from txlb.schedulers._structures._hashing import hashKey, nextPrime
from txlb.schedulers._structures._heap import LazyHeap
from txlb.schedulers._structures._maglev import MAGLEV_SIZES, MaglevTable, maglevSize
from txlb.schedulers._structures._ring import HashRing, ringScale
from txlb.schedulers._structures._smooth import (
    SMOOTH_EXACT_LIMIT,
    DeadlineQueue,
    smoothSequence,
    smoothWork,
)
from txlb.schedulers._structures._steps import SLICE_WORK, finish
from txlb.schedulers._structures._weights import CumulativeWeights, WeightedList

__all__ = [
    "CumulativeWeights",
    "DeadlineQueue",
    "HashRing",
    "LazyHeap",
    "MAGLEV_SIZES",
    "MaglevTable",
    "SLICE_WORK",
    "SMOOTH_EXACT_LIMIT",
    "WeightedList",
    "finish",
    "hashKey",
    "maglevSize",
    "nextPrime",
    "ringScale",
    "smoothSequence",
    "smoothWork",
]
