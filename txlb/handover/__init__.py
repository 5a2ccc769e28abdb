"""
Hitless handover to a new txlb process: C{--handover PATH}. See
C{doc/operations.rst}.
"""

from txlb.handover._journal import JournaledAPI, Replay
from txlb.handover._notify import notify
from txlb.handover._offer import HandoverError, Offer, receive
from txlb.handover._service import Handover
from txlb.handover._twistd import addHandover, findHandover, takePidFile

__all__ = [
    "Handover",
    "HandoverError",
    "JournaledAPI",
    "Offer",
    "Replay",
    "addHandover",
    "findHandover",
    "notify",
    "receive",
    "takePidFile",
]
