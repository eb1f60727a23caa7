"""copy.copy, copy.deepcopy and dict.copy: what they give and what they share."""

import copy
import re
from collections import defaultdict


def show(x):
    return re.sub(r" at 0x[0-9a-f]+", "", repr(x))


inner = [1, 2]
d = {"list": inner, "dict": {"k": "v"}, "tuple": (inner,)}
shallow, deep, method = copy.copy(d), copy.deepcopy(d), d.copy()
inner.append(3)
print(shallow, deep, method)
print(shallow is d, shallow["list"] is inner, deep["list"] is inner, method["dict"] is d["dict"])
print(deep["tuple"][0] is deep["list"], type(shallow) is dict, type(deep["dict"]) is dict)
shallow["new"] = deep["new"] = 1
print("new" in d, shallow == method, deep != d)

recursive = {"name": "r"}
recursive["self"] = recursive
recursive["list"] = [recursive, {"back": recursive}]
r2 = copy.deepcopy(recursive)
print(r2["self"] is r2, r2["list"][0] is r2, r2["list"][1]["back"] is r2, r2 is not recursive)
print(repr(r2), str(r2["list"]))
r3 = copy.copy(recursive)
print(r3["self"] is recursive, r3 is not recursive)

shared = {"s": 1}
holder = [shared, shared, {"again": shared}]
h2 = copy.deepcopy(holder)
print(h2[0] is h2[1] is h2[2]["again"], h2[0] is not shared, h2)

memo = {}
m1 = copy.deepcopy(shared, memo)
m2 = copy.deepcopy(shared, memo)
print(m1 is m2, id(shared) in memo)

dd = defaultdict(list, {"a": [1]})
dd_nested = defaultdict(lambda: defaultdict(int))
dd_nested["x"]["y"] += 1
for original in (dd, dd_nested, defaultdict(None), defaultdict(dict, {"t": {"u": 1}})):
    s, dc, m = copy.copy(original), copy.deepcopy(original), original.copy()
    print(show(s), show(dc), show(m))
    factory = original.default_factory
    print(type(s) is defaultdict, type(dc) is defaultdict, s.default_factory is factory,
          dc.default_factory is factory, s == original, dc == original)
dd_copy = copy.deepcopy(dd)
dd_copy["b"].append(2)
dd["a"].append(99)
print(dd, dd_copy)


class Config:
    def __init__(self):
        self.options = {"verbose": True, "paths": ["/tmp"]}
        self.counts = defaultdict(int)


c = Config()
c2 = copy.deepcopy(c)
c2.options["paths"].append("/var")
c2.counts["x"] += 1
print(c.options, c2.options, dict(c.counts), dict(c2.counts), type(c2.options) is dict)
c3 = copy.copy(c)
print(c3.options is c.options)

empty = {}
print(copy.copy(empty), copy.deepcopy(empty), copy.copy(empty) is not empty, empty.copy() == {})
big = {i: {"v": [i]} for i in range(200)}
big2 = copy.deepcopy(big)
print(big2 == big, big2[199]["v"] is not big[199]["v"], len(big2))
