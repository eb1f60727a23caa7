"""Deeply nested dicts: repr, str, == and json, the way dict handles them."""

import json


def nest(depth):
    d = {}
    for _ in range(depth):
        d = {"k": d}
    return d


a, b = nest(450), nest(450)
for label, f in (("repr", lambda: repr(a)), ("str", lambda: str(a)), ("eq", lambda: a == b),
                 ("json", lambda: json.dumps(a))):
    try:
        result = f()
    except RecursionError:
        print(label, "RecursionError")
    else:
        if isinstance(result, str):
            result = (len(result), result.count("{"), "object at" in result)
        print(label, result)
