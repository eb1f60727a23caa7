"""Pickling with every protocol: what loads back, in this process and (from files) in another.

With an argument, the pickles are also written into that directory, one file per case and
protocol, for a process without racewatch to load.
"""

import os
import pickle
import sys
from collections import defaultdict


class Record:
    def __init__(self):
        self.meta = {"tags": ["a"], "n": 1}


def cases():
    plain = {"a": 1, "b": [1, 2], "c": {"nested": True}}
    empty = {}
    counts = defaultdict(int, {"x": 1})
    lists = defaultdict(list)
    lists["k"].append({"in": "list"})
    tree = defaultdict(dict)
    tree["t"]["u"] = 1
    no_factory = defaultdict(None, {"z": 0})
    recursive = {"name": "loop"}
    recursive["self"] = recursive
    shared = {"s": 1}
    holder = {"first": shared, "second": shared, "list": [shared]}
    keys = {1: "int", (1, 2): "tuple", None: "none", frozenset({1}): "fs", 1.5: "float"}
    items = [1, [2, 3]]
    items.append({"in": "list"})
    members = {4, 5}
    members.add(6)
    sequences = {"list": items, "set": members, "frozen": frozenset({7}), "empty_list": [],
                 "empty_set": set(), "shared": [items, items], "sets": [members, {8}]}
    return {"plain": plain, "empty": empty, "counts": counts, "lists": lists, "tree": tree,
            "no_factory": no_factory, "recursive": recursive, "holder": holder,
            "keys": keys, "record": Record(), "fromkeys": dict.fromkeys("ab", 0),
            "sequences": sequences}


def describe(obj):
    if isinstance(obj, Record):
        return f"Record {obj.meta} {type(obj.meta).__name__}"
    extra = ""
    if "self" in obj:
        extra = f" self is self: {obj['self'] is obj}"
    if "first" in obj:
        extra = f" shared kept: {obj['first'] is obj['second'] is obj['list'][0]}"
    if "shared" in obj:
        extra = (f" shared kept: {obj['shared'][0] is obj['shared'][1] is obj['list']}"
                 f" {obj['sets'][0] is obj['set']} {sorted(obj['set'])} {obj['list']}")
    factory = getattr(obj, "default_factory", "-")
    return f"{type(obj).__name__} {factory} {sorted(obj, key=repr)}{extra}"


out = sys.argv[1] if len(sys.argv) > 1 else None
for name, obj in cases().items():
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        data = pickle.dumps(obj, protocol)
        back = pickle.loads(data)
        print(name, protocol, describe(back), back == obj if name != "recursive" else "-",
              type(back) is type(obj), pickle.loads(pickle.dumps(back, protocol)) is not back)
        if out:
            with open(os.path.join(out, f"{name}.{protocol}.pickle"), "wb") as f:
                f.write(data)

try:
    pickle.dumps(defaultdict(lambda: 0))
except Exception as exc:
    print("lambda factory:", type(exc).__name__, str(exc).split(" at 0x")[0])
