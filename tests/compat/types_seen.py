"""type(), type().__name__, __class__, isinstance and issubclass, wherever they are written."""

import collections.abc
from collections import OrderedDict, defaultdict

d = {"a": 1}
dd = defaultdict(list)
made = [dict(a=1), dict.fromkeys("ab"), {k: k for k in "ab"}, dict(), dict([("a", 1)]),
        collections.defaultdict(int), defaultdict(dict), {**d}]


def describe(x):
    t = type(x)
    return (t.__name__, t.__qualname__, t.__module__, t is dict, t is defaultdict,
            x.__class__ is t, x.__class__.__name__, isinstance(x, dict),
            issubclass(t, dict), issubclass(x.__class__, dict), type(x) == dict,  # noqa: E721
            type(x) in (dict, list), type(x) is type({}), t.__mro__)


print(type(d), type(dd), type(d) is dict, type(dd) is defaultdict, type(dd) is dict)
print(type(d).__name__, type(dd).__name__, d.__class__, dd.__class__)
print(isinstance(d, dict), isinstance(dd, dict), isinstance(dd, defaultdict))
print(isinstance(d, collections.abc.MutableMapping), isinstance(d, OrderedDict))
print(issubclass(type(d), dict), issubclass(type(dd), dict), issubclass(type(d), defaultdict))
print(type(type(d)), type(d)(), type(dd)(int, a=1), type(d)(a=1) == d)
print(str(type(d)), repr(type(dd)), f"{type(d).__name__}/{type(dd).__name__}")
for x in made:
    print(describe(x))

is_plain = lambda x: type(x) is dict  # noqa: E731
print(is_plain(d), is_plain(dd), list(map(is_plain, made)))
print([type(x) is dict for x in made], {type(x).__name__ for x in made} == {"dict", "defaultdict"})
print({i: type(x).__name__ for i, x in enumerate(made)})
print(sum(1 for x in made if type(x) is dict), all(isinstance(x, dict) for x in made))


def nested():
    inner_d = {}

    def inner():
        return type(inner_d) is dict, type(d).__name__

    return inner()


print(nested())


class Holder:
    attr = {"x": 1}
    attr_is_dict = type(attr) is dict
    names = [type(v).__name__ for v in (attr, {})]

    def method(self):
        return type(self.attr) is dict, type(self.attr).__name__

    @staticmethod
    def static(x=None):
        return type(x if x is not None else {}) is dict

    @classmethod
    def klass(cls):
        return type(cls.attr) is dict


h = Holder()
print(Holder.attr_is_dict, Holder.names, h.method(), Holder.static(), Holder.klass())


def default_arg(t=type({})):  # noqa: B008
    return t is dict


def gen():
    yield type({}) is dict
    yield type(defaultdict(int)).__name__


print(default_arg(), list(gen()))


def deco(f):
    f.marked = type({}) is dict
    return f


@deco
def decorated():
    pass


print(decorated.marked)

match d:
    case {"a": 1} if type(d) is dict:
        print("match guard sees dict")
    case _:
        print("match guard does not see dict")

assert type(d) is dict and type(dd) is defaultdict
print(type(d) is not dict, type(dd) is not defaultdict)
print(isinstance(d, (list, dict)), isinstance(d, type(dd)), isinstance(dd, type(d)))
