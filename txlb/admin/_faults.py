"""
The admin's fault codes: every refused call carries one of these and one
sentence, and changes nothing.
"""

#: An unknown service, group or host.
NOT_FOUND = 1
#: A bad argument: wrong type or count, bad address, weight, scheduler or
#: endpoint.
BAD_ARGUMENT = 2
#: A name already taken, or a change that would leave things inconsistent
#: (such as deleting the enabled group).
CONFLICT = 3
#: The user may only read.
FORBIDDEN = 4
#: The change was valid but could not be carried out (such as a listener
#: that cannot bind).
FAILED = 5

CODES = {
    NOT_FOUND: "not found",
    BAD_ARGUMENT: "bad argument",
    CONFLICT: "conflict",
    FORBIDDEN: "forbidden",
    FAILED: "failed",
}


class AdminError(Exception):
    """
    A refused admin call: a fault code from this module and one sentence.
    """

    def __init__(self, code, message):
        Exception.__init__(self, message)
        self.code = code
        self.message = message
