"""Every dict method and operator: results, the dict after, and the exceptions they raise."""

from collections import OrderedDict


def attempt(label, f):
    try:
        result = f()
    except Exception as exc:
        print(f"{label}: {type(exc).__name__}: {exc}")
    else:
        print(f"{label}: {result!r}")


d = {"a": 1, "b": 2, "c": 3}
print(len(d), bool(d), bool({}), "a" in d, "z" in d, "z" not in d, list(d), list(reversed(d)))
print(d["a"], d.get("a"), d.get("z"), d.get("z", 0), d.setdefault("a", 9), d.setdefault("d"))
print(d.setdefault("e", []), d, d.pop("e"), d.pop("z", "dflt"), d.pop("z", None), d)
attempt("pop missing", lambda: d.pop("z"))
attempt("getitem missing", lambda: d["z"])
attempt("getitem unhashable", lambda: d[["a"]])
attempt("get unhashable", lambda: d.get({}))
attempt("contains unhashable", lambda: [] in d)
attempt("setdefault unhashable", lambda: d.setdefault({}, 1))
attempt("pop unhashable", lambda: d.pop([], None))

del d["d"]
attempt("del missing", lambda: d.__delitem__("z"))
d["a"] = 10
d["new"] = 4
print(d, d.popitem(), d, d.popitem(), d)
attempt("popitem empty", lambda: {}.popitem())
e = {}
attempt("popitem emptied", lambda: (e.setdefault("x", 1), e.popitem(), e.popitem()))

# Order: deleting and re-inserting moves a key to the end; updating does not.
o = {"x": 1, "y": 2, "z": 3}
o["x"] = 100
del o["y"]
o["y"] = 2
print(list(o), list(o.items()), list(reversed(o.items())), list(reversed(o.values())))

# Views
k, v, i = o.keys(), o.values(), o.items()
print(k, v, i, len(k), len(v), len(i), "x" in k, 100 in v, ("x", 100) in i)
print(sorted(k & {"x", "q"}), sorted(k | {"q"}), sorted(k - {"x"}), sorted(k ^ {"x", "q"}))
print(sorted(i & {("x", 100)}), k.isdisjoint({"q"}), k == {"x", "y", "z"}, k.mapping["x"])
print(list(reversed(k)), list(iter(v)), repr(i.mapping), type(k).__name__, type(i).__name__)
o["w"] = 0
print(k, v, i)
attempt("view changed during iteration",
        lambda: [o.__setitem__(key + "!", 1) for key in o.keys()])
attempt("dict changed size during iteration", lambda: [o.pop(key) for key in o])

# clear, copy
c = {"p": [1], "q": 2}
cc = c.copy()
cc["p"].append(2)
cc["r"] = 3
print(c, cc, c is cc, c == cc, c != cc, cc.clear(), cc, c)

# fromkeys: builtin, through an instance, with a shared mutable value
fk = dict.fromkeys("abc")
fk2 = dict.fromkeys(["x", "y"], [])
fk2["x"].append(1)
print(fk, fk2, fk.fromkeys([1, 2], 0), dict.fromkeys(range(3), "v"), dict.fromkeys(""))
attempt("fromkeys unhashable", lambda: dict.fromkeys([[1]]))

# Operators
m, n = {"a": 1, "b": 2}, {"b": 20, "c": 30}
print(m | n, n | m, m, n, m | {}, {} | m, m | OrderedDict(z=1), OrderedDict(z=1) | m)
mm = m
m |= n
print(m, mm is m)
m |= [("pairs", 1)]
m |= {"kw": 2}.items()
print(m)
attempt("or with list", lambda: m | [("a", 1)])
attempt("ior with int", lambda: m.__ior__(5))
attempt("ior with bad pairs", lambda: m.__ior__([1]))
attempt("or with int", lambda: m | 1)
attempt("ror with int", lambda: 1 | m)
attempt("lt", lambda: m < n)
attempt("add", lambda: m + n)
attempt("hash", lambda: hash(m))
attempt("in set", lambda: {m})
print(m == dict(m), m != dict(m), {} == {}, {"a": 1} == {"a": 1.0}, {"a": 1} == OrderedDict(a=1))
print({"a": [1]} == {"a": [1]}, {"a": 1} != {"a": 2}, {"a": 1} == [("a", 1)], {1: 1} == {True: 1})
print(len(m), bool(m), sorted(m), min(m), max(m), sum({1: "a", 2: "b"}), any({0: 1}), all({}))

# update: mappings, pairs, keyword arguments, objects with keys(), and bad input
u = {"a": 1}
u.update({"b": 2})
u.update([("c", 3), ("d", 4)])
u.update(e=5, f=6)
u.update({"g": 7}, h=8)
u.update(zip("ij", (9, 10), strict=True))
u.update(OrderedDict(k=11))
u.update(u)


class KeysOnly:
    def keys(self):
        return ["x", "y"]

    def __getitem__(self, key):
        return key * 2


u.update(KeysOnly())
u.update()
print(u)
attempt("update int", lambda: u.update(1))
attempt("update two args", lambda: u.update({}, {}))
attempt("update string", lambda: u.update("ab"))
attempt("update short pair", lambda: u.update([("ok", 1), ("bad",)]))
print("after short pair", u)
attempt("update unhashable", lambda: u.update([("ok2", 2), ([], 3)]))
print("after unhashable", u)


class Failing:
    def keys(self):
        return ["fine", "boom", "never"]

    def __getitem__(self, key):
        if key == "boom":
            raise LookupError("boom")
        return key


attempt("update failing mapping", lambda: u.update(Failing()))
print("after failing mapping", u)


def pairs():
    yield "gen1", 1
    raise ValueError("generator failed")


attempt("update failing generator", lambda: u.update(pairs()))
print("after failing generator", u)

# del, len, bool, iteration, reversed on nested and on integers and other key types
keys = {1: "int", 1.5: "float", (1, 2): "tuple", None: "none", frozenset({3}): "fs", True: "t"}  # noqa: F601
print(keys, len(keys), keys[1], keys[True], keys[(1, 2)], keys[None], list(reversed(keys)))
for key in list(keys):
    del keys[key]
print(keys, len(keys), bool(keys))

# dict() constructor forms
print(dict(), dict(a=1), dict({"a": 1}, b=2), dict([("a", 1)]), dict(zip("ab", "xy", strict=True)),
      dict(OrderedDict(a=1)), dict(KeysOnly()), dict({"a": 1}.items()))
attempt("dict from int", lambda: dict(1))
attempt("dict from bad seq", lambda: dict([(1, 2, 3)]))
attempt("dict two positional", lambda: dict({}, {}))
