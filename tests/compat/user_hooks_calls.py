"""How often, and in which order, dict calls the __hash__, __eq__ and __deepcopy__ of keys."""

import copy
from collections import defaultdict

calls = []


class Key:
    def __init__(self, name):
        self.name = name

    def __hash__(self):
        calls.append(f"hash {self.name}")
        return hash(self.name)

    def __eq__(self, other):
        calls.append(f"eq {self.name}")
        return isinstance(other, Key) and other.name == self.name

    def __repr__(self):
        return f"Key({self.name})"


class Logged:
    def __init__(self, name):
        self.name = name

    def __hash__(self):
        return hash(self.name)

    def __deepcopy__(self, memo):
        calls.append(f"deepcopy {self.name}")
        return Logged(self.name)


def count(label, f):
    calls.clear()
    f()
    print(label, calls)


a, a2, b = Key("a"), Key("a"), Key("b")
d = {}
count("display", lambda: {a: 1})
count("insert", lambda: d.__setitem__(a, 1))
count("overwrite with equal key", lambda: d.__setitem__(a2, 2))
count("getitem", lambda: d[a])
count("get", lambda: d.get(b))
count("contains", lambda: a2 in d)
count("setdefault present", lambda: d.setdefault(a, 0))
count("setdefault absent", lambda: d.setdefault(b, 0))
count("pop", lambda: d.pop(b))
count("pop default", lambda: d.pop(b, None))
count("delitem", lambda: d.__delitem__(a2))
count("update from dict", lambda: d.update({a: 1}))
count("update from pairs", lambda: d.update([(b, 2)]))
count("ior", lambda: d.__ior__({a2: 3}))
count("copy", lambda: d.copy())
count("eq", lambda: d == {a: 3, b: 2})
count("dict(d)", lambda: dict(d))
count("fromkeys", lambda: dict.fromkeys([a, b]))
dd = defaultdict(int)
count("defaultdict miss", lambda: dd[a])
count("defaultdict hit", lambda: dd[a])

count("deepcopy order", lambda: copy.deepcopy({Logged("key1"): Logged("value1"),
                                               Logged("key2"): Logged("value2")}))
