"""
Building a large structure in steps: the protocol the sliced rebuilds share.

A builder is a generator: each C{next()} does at most about L{SLICE_WORK}
elementary steps (a hash, a probe, a comparison) and yields; when the
structure is complete it returns it (the C{StopIteration} value). Whoever
drives it decides when each step runs.
"""

#: The elementary steps one C{next()} of a builder may do: a few
#: milliseconds of CPython.
SLICE_WORK = 10_000


def finish(steps):
    """
    Run the builder C{steps} to its end and return what it built.
    """
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value
