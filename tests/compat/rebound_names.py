"""Names the program rebinds (dict, type, defaultdict) keep meaning what the program says."""

import builtins
import collections
from collections import OrderedDict, defaultdict

d = {"a": 1}


def with_dict_param(dict):
    return dict(a=1)


def with_type_param(type):
    return type(d)


def with_defaultdict_param(defaultdict):
    return defaultdict(int)


def local_dict():
    dict = OrderedDict
    return dict(a=1)


def local_type():
    def type(x):
        return "local type of " + repr(x)

    return type(d)


def local_defaultdict():
    defaultdict = OrderedDict
    return defaultdict(a=1)


def imported_as():
    from collections import Counter as defaultdict
    from collections import OrderedDict as dict

    return dict(b=2), defaultdict("aab")


def reassigned_module():
    collections = None  # noqa: F841 -- shadows the module in this function only
    import collections as co

    return type(co.defaultdict(int)).__name__


print(with_dict_param(OrderedDict), with_dict_param(lambda **kw: sorted(kw)))
print(with_type_param(lambda x: ("mine", x)), with_type_param(len))
print(with_defaultdict_param(lambda f: ("factory", f())))
print(local_dict(), local_type(), local_defaultdict(), imported_as(), reassigned_module())
print(lambda_dict := (lambda dict: dict(x=1))(OrderedDict))
print((lambda type: type(1))(str), [type(1) for type in (repr, bool)])
print([dict(a=1) for dict in (OrderedDict,)], {str(dict): 0 for dict in (1,)})


class WithAttributes:
    dict = OrderedDict
    type = staticmethod(lambda x: "class-level type")
    made = dict(z=26)
    typed = type(d)
    # A comprehension in a class body does not see the class's names, except in its
    # first iterable, which the class body evaluates.
    seen = [type(x) is builtins.dict for x in (d,)]
    first = [k for k in dict(q=1)]

    def method(self):
        return type(d) is builtins.dict, dict(m=1)


w = WithAttributes()
print(WithAttributes.made, WithAttributes.typed, WithAttributes.seen, WithAttributes.first)
print(w.method(), type(WithAttributes.made).__name__)


def outer():
    dict = OrderedDict
    type = repr

    def inner():
        return dict(i=1), type(d)

    class Inner:
        made = dict(c=3)
        typed = type(d)

    return inner(), Inner.made, Inner.typed


print(outer())


def uses_nonlocal():
    type = len

    def inner():
        nonlocal type
        return type(d)

    return inner()


print(uses_nonlocal())

counter = 0


def set_global():
    global defaultdict
    defaultdict = collections.Counter


print(type(defaultdict(int)), defaultdict(int))
set_global()
print(type(defaultdict("aab")), defaultdict("aab"))


def handler_binds():
    try:
        raise KeyError("k")
    except KeyError as dict:
        return repr(dict)


def match_binds():
    match {"dict": OrderedDict, "value": 1}:
        case {"dict": type, "value": v}:
            return type(a=v)


def loop_binds():
    return [type(d) for type in (str, repr)]


def walrus_binds():
    [(dict := OrderedDict) for _ in range(1)]
    return dict(w=1)


print(handler_binds(), match_binds(), loop_binds(), walrus_binds())
print(type(d) is dict, type({}) is builtins.dict, type(dict(a=1)) is type({}), dict(a=1))
