"""defaultdict: default_factory, __missing__, repr, nesting, copies and operators."""

import collections
import re
from collections import defaultdict


def show(x):
    """repr without the addresses of functions, which change from run to run."""
    return re.sub(r" at 0x[0-9a-f]+", "", repr(x))


def attempt(label, f):
    try:
        result = f()
    except Exception as exc:
        print(f"{label}: {type(exc).__name__}: {exc}")
    else:
        print(f"{label}: {show(result)}")


counts = defaultdict(int)
for word in "the cat and the hat and the bat".split():
    counts[word] += 1
print(counts, counts.default_factory, len(counts), dict(counts), sorted(counts.items()))
print(counts["missing"], "missing" in counts, counts.get("other"), "other" in counts)

groups = defaultdict(list)
for n in range(10):
    groups[n % 3].append(n)
print(groups, groups[5], groups)

tree = defaultdict(dict)
tree["a"]["b"] = 1
tree["a"]["c"] = 2
tree["x"]
print(tree, type(tree["a"]) is dict, type(tree["a"]).__name__)

nested = defaultdict(lambda: defaultdict(list))
nested["u"]["v"].append(1)
nested["u"]["w"]
print(show(nested), type(nested["u"]) is defaultdict, show(nested["u"]))


def factory():
    return "made"


named = collections.defaultdict(factory, {"k": "v"}, extra=1)
print(show(named), named["new"], show(named), named.__missing__("direct"), show(named))
print(named.default_factory is factory, named.setdefault("s", 0), named.pop("s"))

none = defaultdict()
print(none, none.default_factory)
attempt("no factory", lambda: none["k"])
attempt("no factory __missing__", lambda: none.__missing__("k"))
none.default_factory = list
none["k"].append(1)
print(none)
none.default_factory = None
attempt("factory removed", lambda: none["z"])
attempt("bad factory", lambda: defaultdict(1))
attempt("bad factory type", lambda: defaultdict("x"))
print(defaultdict(None, {"a": 1}), defaultdict(int, [("a", 1)]), defaultdict(int, a=1))
print(defaultdict(list, defaultdict(int, {"q": 1})))

failing = defaultdict(lambda: 1 / 0)
attempt("factory raises", lambda: failing["k"])
print("after factory raised", dict(failing))


def sized():
    return len(sizes)


sizes = defaultdict(sized)
sizes["a"]
sizes["b"]
print("factory sees the dict before the insert", show(sizes))

# copies and operators keep the factory
c = counts.copy()
c["the"] = 0
print(c, counts["the"], c.default_factory, type(c) is defaultdict)
o = counts | {"new": 1}
print(o, type(o).__name__, o.default_factory)
counts |= {"the": 100}
print(counts, counts == dict(counts), counts != {}, dict(counts) == counts)
print(sorted(counts), list(reversed(counts)), sorted(counts.values()), counts.popitem())
print(defaultdict.fromkeys("ab"), defaultdict(int).fromkeys("ab", 1))
print(str(counts), f"{counts}", f"{counts!r}", "%s" % (counts,), format(counts))  # noqa: UP031
print("{0[the]} {0[zz]}".format(counts), counts["zz"], "{the}".format_map(counts))  # noqa: UP032
print("{brand_new}".format_map(counts), "brand_new" in counts)
counts.clear()
print(counts, counts.default_factory)
