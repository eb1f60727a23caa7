"""Objects whose attributes are watched behave as plain ones: class features, descriptors,
errors, copying and pickling, while a second thread is alive (so every access is checked)."""

import abc
import copy
import dataclasses
import enum
import functools
import pickle
import threading
import types
import weakref

done = threading.Event()
alive = threading.Thread(target=done.wait)
alive.start()  # from here on racewatch checks every access (no thread is alone)


class Base(abc.ABC):
    kind = "base"

    @abc.abstractmethod
    def area(self): ...

    def describe(self):
        return f"{self.kind} {self.area()}"


class Square(Base):
    kind = "square"

    def __init__(self, side):
        self.side = side

    def area(self):
        return self.side * self.side

    @property
    def perimeter(self):
        return 4 * self.side

    @perimeter.setter
    def perimeter(self, value):
        self.side = value / 4

    @functools.cached_property
    def diagonal(self):
        return round(self.side * 2 ** 0.5, 3)


sq = Square(3)
print(sq.describe(), sq.perimeter, sq.diagonal, "diagonal" in vars(sq))
sq.perimeter = 20
print(sq.side, sq.area(), Square.kind, sq.kind, isinstance(sq, Base))
try:
    Base()
except TypeError as exc:
    print("abstract:", type(exc).__name__)
try:
    print(sq.missing)
except AttributeError as exc:
    print("missing:", exc)
print(hasattr(sq, "missing"), getattr(sq, "missing", "default"))
del sq.side
print(hasattr(sq, "side"))
sq.side = 2
print(sorted(vars(sq)), sq.__dict__ == {"side": 2, "diagonal": 4.243})


class Point:
    __slots__ = ("x", "y")

    def __init__(self, x, y):
        self.x, self.y = x, y

    def __repr__(self):
        return f"Point({self.x}, {self.y})"

    def __eq__(self, other):
        return (self.x, self.y) == (other.x, other.y)

    def __hash__(self):
        return hash((self.x, self.y))

    def __getstate__(self):
        return (self.x, self.y)

    def __setstate__(self, state):
        self.x, self.y = state


p = Point(1, 2)
print(p, Point.__slots__, hasattr(p, "__dict__"), copy.copy(p), copy.deepcopy(p) == p)
print(pickle.loads(pickle.dumps(p)), {p: 1}[Point(1, 2)])
try:
    p.z = 3
except AttributeError as exc:
    print("slots:", type(exc).__name__)
try:
    Point.x.__get__(Point.__new__(Point))
except AttributeError as exc:
    print("unset slot:", type(exc).__name__)


@dataclasses.dataclass
class Config:
    name: str
    retries: int = 3
    tags: list = dataclasses.field(default_factory=list)


@dataclasses.dataclass(frozen=True)
class Frozen:
    x: int


c = Config("svc")
c.retries += 1
c.tags.append("a")
print(c, dataclasses.asdict(c), dataclasses.replace(c, name="other"), copy.deepcopy(c) == c)
f = Frozen(1)
try:
    f.x = 2
except dataclasses.FrozenInstanceError as exc:
    print("frozen:", type(exc).__name__, f, hash(f) == hash(Frozen(1)))
print(pickle.loads(pickle.dumps(c)) == c, pickle.loads(pickle.dumps(f)))


class Color(enum.Enum):
    RED = 1
    GREEN = 2

    @property
    def lower(self):
        return self.name.lower()


print(Color.RED, Color(2), Color.RED.lower, [c.name for c in Color], Color.RED.value)


class Lazy:
    def __init__(self):
        self.loaded = {}

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        self.loaded[name] = len(name)
        return self.loaded[name]


lazy = Lazy()
print(lazy.abc, lazy.loaded, hasattr(lazy, "_private"))


class Meta(type):
    def __new__(mcls, name, bases, ns):
        ns.setdefault("tag", name.lower())
        return super().__new__(mcls, name, bases, ns)

    def __call__(cls, *args, **kwargs):
        obj = super().__call__(*args, **kwargs)
        obj.made_by = "Meta"
        return obj


class Tagged(metaclass=Meta):
    def __init__(self, n):
        self.n = n


t = Tagged(5)
print(t.tag, t.made_by, t.n, type(Tagged).__name__)


class Guarded:
    def __setattr__(self, name, value):
        if name == "locked":
            raise AttributeError("locked is read-only")
        super().__setattr__(name, value)

    def __delattr__(self, name):
        print("deleting", name)
        object.__delattr__(self, name)


g = Guarded()
g.a = 1
try:
    g.locked = True
except AttributeError as exc:
    print("guarded:", exc)
del g.a
print(vars(g), g.__class__ is Guarded, type(g) is Guarded, Guarded.__name__)


class Counter:
    instances = 0

    def __init__(self):
        type(self).instances += 1
        Counter.instances += 0

    @classmethod
    def reset(cls):
        cls.instances = 0


Counter(), Counter()
print(Counter.instances)
Counter.reset()
print(Counter.instances, weakref.ref(sq)() is sq, types.SimpleNamespace(a=1).a)

done.set()
alive.join()
