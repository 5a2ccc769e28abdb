"""
The admin: an XML-RPC API at C{/RPC2}, a status page at C{/} and
Prometheus metrics at C{/metrics}, on one or more endpoints; see
C{doc/admin.rst}.
"""

from txlb.admin._api import AdminAPI
from txlb.admin._faults import (
    BAD_ARGUMENT,
    CONFLICT,
    FAILED,
    FORBIDDEN,
    NOT_FOUND,
    AdminError,
)
from txlb.admin._rpc import METHODS, AdminRPC
from txlb.admin._service import AdminService
from txlb.admin._users import UserFile, hashPassword, verifyPassword

__all__ = [
    "AdminAPI",
    "AdminError",
    "AdminRPC",
    "AdminService",
    "METHODS",
    "UserFile",
    "hashPassword",
    "verifyPassword",
    "NOT_FOUND",
    "BAD_ARGUMENT",
    "CONFLICT",
    "FORBIDDEN",
    "FAILED",
]
