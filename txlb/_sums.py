"""
Adding up figures of several processes (C{--workers}): plain numbers, dicts
of them (refusals by reason), lists of them (histogram buckets). Pure.
"""


def addFigures(a, b):
    """
    C{a + b} for numbers, key by key for dicts (refusals by reason) and
    item by item for lists (histogram buckets); None for anything else.
    C{a} may be None (nothing yet).
    """
    if isinstance(b, bool):
        return a
    if isinstance(b, (int, float)):
        return (a or 0) + b if isinstance(a, (int, float, type(None))) else a
    if isinstance(b, dict):
        result = dict(a) if isinstance(a, dict) else {}
        for k, v in b.items():
            summed = addFigures(result.get(k), v)
            if summed is not None:
                result[k] = summed
        return result
    if isinstance(b, list):
        if not isinstance(a, list):
            return list(b)
        if len(a) != len(b):
            return a
        return [addFigures(x, y) for x, y in zip(a, b)]
    return a
