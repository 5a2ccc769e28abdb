"""
Which builder a C{.tac} being loaded by C{twistd txlb --config} builds with
(L{txlb.tac.application} reads it, L{txlb.tacfile.loadTac} sets it).
"""

from contextvars import ContextVar

#: The builder C{twistd txlb --config} (or C{--workers}) loads a C{.tac}
#: with; unset under C{twistd -ny}, where each application builds alone.
loadingWith = ContextVar("loadingWith", default=None)
