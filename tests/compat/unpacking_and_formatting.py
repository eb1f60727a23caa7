"""Nested dicts, ** unpacking, str.format, format_map, %, f-strings, and builtins over dicts."""

import operator
import string
import types
from collections import ChainMap, Counter, OrderedDict, defaultdict
from functools import reduce

config = {"db": {"host": "localhost", "port": 5432, "opts": {"ssl": True}}, "debug": False}
config["db"]["opts"]["timeout"] = 3
config.setdefault("cache", {}).setdefault("size", 10)
print(config, config["db"]["opts"], len(config["db"]), "ssl" in config["db"]["opts"])


def connect(host, port, **rest):
    return f"{host}:{port} {rest}"


def everything(*args, **kwargs):
    return args, kwargs, type(kwargs) is dict


print(connect(**config["db"]), connect(**{"host": "h"}, port=1), everything(**{}))
print(everything(*config, **config["db"]["opts"]), everything(**dict(a=1), **{"b": 2}))
try:
    connect(**{"host": "h", "port": 1}, **{"port": 2})
except TypeError as exc:
    print("duplicate keyword:", exc)
try:
    everything(**{1: "not a string key"})
except TypeError as exc:
    print("non-string keyword:", exc)

base = {"a": 1, "b": 2}
merged = {**base, "b": 20, **{"c": 3}}
copied, called = {**base}, dict(base)
copied["a"] = called["a"] = 100
print(merged, copied, called, base, copied is base, called is base, {**{}}, {**base, **base})
print(dict(base, z=26), dict(**base), dict(base.items()), list({**base}.items()))

person = {"name": "Ada", "born": 1815, "langs": ["en", "fr"]}
print("{name} was born in {born}".format(**person), "{0[name]}".format(person))  # noqa: UP030, UP032
print("{name}: {langs[1]}".format_map(person), "%(name)s/%(born)d" % person)  # noqa: UP031
template = string.Template("$name ($born)")
print(template.substitute(person), string.Template("$x").safe_substitute({}))
print(f"{person['name']} {person!r} {person=} {len(person):>4} {person.get('x', '-')}")
print(f"{ {'inline': 1} } {dict(a=1)!s:>20} { {k: v for k, v in person.items() if k == 'born'} }")
missing = defaultdict(lambda: "?", {"known": "yes"})
print("{known} {unknown}".format_map(missing), sorted(missing))
try:
    "{nope}".format_map({})
except KeyError as exc:
    print("format_map missing:", repr(exc))
try:
    "%(nope)s" % {}  # noqa: B018, F505, UP031
except KeyError as exc:
    print("percent missing:", repr(exc))

scores = {"ann": 3, "bob": 7, "cid": 5, "dee": 7}
print(sorted(scores), sorted(scores, key=scores.get), sorted(scores.items(), key=lambda kv: kv[1]))
print(max(scores, key=scores.get), min(scores.values()), max(scores.items()), min(scores))
print(sum(scores.values()), sorted(scores, reverse=True), list(enumerate(scores)))
print(list(zip(scores, scores.values(), strict=True)), set(scores) == {"ann", "bob", "cid", "dee"})
print(tuple(scores.items())[:2], any(v > 6 for v in scores.values()), dict(sorted(scores.items())))
print(Counter(scores), OrderedDict(scores), ChainMap({"x": 1}, scores)["ann"], Counter(scores)["x"])
print(types.MappingProxyType(scores), operator.itemgetter("ann", "bob")(scores))
print(reduce(operator.or_, [{"a": 1}, {"b": 2}, {"a": 3}]), dict(zip("abc", range(3), strict=True)))
print(sorted({v: k for k, v in scores.items()}.items()), {k: v for k, v in scores.items() if v > 4})
print([{"i": i} for i in range(3)], [dict(i=i) for i in range(2)], {i: {} for i in range(2)})
inverse = {}
for k, v in scores.items():
    inverse.setdefault(v, []).append(k)
print(inverse, {v: sorted(ks) for v, ks in sorted(inverse.items())})
matrix = {(r, c): r * c for r in range(3) for c in range(3)}
print(matrix[(2, 2)], len(matrix), sorted(matrix)[-1], max(matrix.items(), key=lambda kv: kv[1]))
