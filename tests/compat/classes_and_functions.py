"""Dicts in class bodies, __slots__, defaults, metaclasses, dataclasses, vars() and friends."""

import dataclasses
import enum
import functools
import sys
import types
from collections import defaultdict, namedtuple


class Registry:
    entries = {}
    by_kind = defaultdict(list)
    __slots__ = ()

    @classmethod
    def add(cls, name, kind):
        cls.entries[name] = kind
        cls.by_kind[kind].append(name)


Registry.add("a", "x")
Registry.add("b", "x")
print(Registry.entries, dict(Registry.by_kind), type(Registry.entries) is dict)


class Slotted:
    __slots__ = {"x": "the x coordinate", "y": "the y coordinate"}

    def __init__(self):
        self.x, self.y = 1, 2


s = Slotted()
print(s.x, s.y, Slotted.x.__doc__, Slotted.__slots__, type(Slotted.__slots__) is dict)
print(hasattr(s, "__dict__"), sorted(Slotted.__slots__))
try:
    s.z = 3
except AttributeError as exc:
    print("slots:", exc)


def remember(item, seen={}):  # noqa: B006 -- the shared default is the point
    seen[item] = seen.get(item, 0) + 1
    return seen


def kwonly(*, options={"a": 1}):  # noqa: B006
    return options


print(remember("x"), remember("x"), remember("y") is remember.__defaults__[0])
print(remember.__defaults__, kwonly(), kwonly.__kwdefaults__, type(kwonly.__kwdefaults__) is dict)
kwonly.__kwdefaults__ = {"options": {"replaced": True}}
print(kwonly())


def collect(*args, **kwargs):
    kwargs["added"] = True
    return args, kwargs, type(kwargs) is dict, type(kwargs).__name__


print(collect(1, a=2), collect(**{"b": 3}))


class Meta(type):
    @classmethod
    def __prepare__(mcls, name, bases, **kwargs):
        return {"injected": "by prepare"}

    def __new__(mcls, name, bases, namespace, **kwargs):
        namespace["seen_keys"] = sorted(k for k in namespace if not k.startswith("__"))
        return super().__new__(mcls, name, bases, dict(namespace))


class Prepared(metaclass=Meta):
    a = 1

    def method(self):
        return self.injected


print(Prepared.seen_keys, Prepared().method(), Prepared.injected)


class WithInitSubclass:
    registry = {}

    def __init_subclass__(cls, /, key=None, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.registry[key] = cls.__name__


class Child(WithInitSubclass, key="child"):
    pass


print(WithInitSubclass.registry)

Dynamic = type("Dynamic", (), {"attr": {"k": 1}, "method": lambda self: self.attr})
print(Dynamic().method(), Dynamic.__name__, sorted(k for k in vars(Dynamic) if k[0] != "_"))


class Plain:
    def __init__(self):
        self.a = 1
        self.mapping = {"m": 1}


p = Plain()
print(vars(p), p.__dict__, type(vars(p)) is dict, sorted(vars(Plain).keys())[:3])
p.__dict__ = {"replaced": True}
print(p.replaced, vars(p))
p.__dict__.update({"more": 1})
print(p.more, vars(p))


@dataclasses.dataclass
class Point:
    x: int
    y: int
    tags: dict = dataclasses.field(default_factory=dict)
    extra: dict = dataclasses.field(default_factory=lambda: {"made": "by lambda"})
    # (dataclasses.asdict cannot copy a defaultdict before 3.12.)


pt = Point(1, 2, {"color": "red"})
as_dict = dataclasses.asdict(pt)
print(as_dict, type(as_dict) is dict, type(as_dict["tags"]) is dict, dataclasses.astuple(pt))
print(type(as_dict["extra"]).__name__, dataclasses.replace(pt, tags={"new": 1}))
print(dataclasses.asdict(pt, dict_factory=lambda pairs: {k: v for k, v in pairs if k != "y"}))
print(dataclasses.fields(pt)[2].name, Point.__annotations__)

Pair = namedtuple("Pair", "left right")
print(Pair(1, 2)._asdict(), Pair(**{"left": 1, "right": 2}), Pair._make({"l": 1, "r": 2}))


class Color(enum.Enum):
    RED = {"hex": "#f00"}
    GREEN = {"hex": "#0f0"}


print(Color.RED.value, Color["GREEN"].value["hex"], {c.name: c.value for c in Color})


@functools.singledispatch
def kind(x):
    return "other"


@kind.register
def _(x: dict):
    return "dict"


@kind.register(defaultdict)
def _(x):
    return "defaultdict"


print(kind({}), kind(defaultdict(int)), kind([]), kind(dict(a=1)))


@functools.cache
def cached(**kwargs):
    return sorted(kwargs.items())


print(cached(a=1), cached(a=1), cached.cache_info().hits)
print(types.SimpleNamespace(**{"a": 1}), functools.partial(collect, **{"p": 1})())
print(sys.getsizeof({}) > 0, sys.getsizeof({"a": 1}) > 0, sys.getsizeof(defaultdict(int)) > 0)
print({}.__sizeof__() > 0, defaultdict(list, a=[1]).__sizeof__() > 0)


def local_vars():
    inner = {"v": 1}
    names = sorted(vars())
    return names, inner, sorted(locals())


print(local_vars())
