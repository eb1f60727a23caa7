"""type(d) is dict when the builtin type is reached other than by a direct type(x) call."""

import builtins
import functools
import operator

d = {"a": 1}

t = type
print("alias", t(d) is dict)
print("map", list(map(type, [d, [], 1])) == [dict, list, int])
print("builtins attribute", builtins.type(d) is dict)
print("starred", type(*[d]) is dict)
print("partial", functools.partial(type)(d) is dict)
print("attrgetter", operator.attrgetter("__class__")(d) is dict)
print("sorted by type name", sorted([d, [1]], key=lambda x: type(x).__name__))
print("set of types", {type(x) for x in (d, {})} == {dict})


def annotated(x: type(d)) -> type(d):  # annotations are evaluated, but not rewritten
    return x


hints = annotated.__annotations__
print("annotation", hints["x"] is dict, hints["return"] is dict)
