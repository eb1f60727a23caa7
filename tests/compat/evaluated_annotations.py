"""Annotations evaluated at definition time (no __future__ import) that contain dicts."""

# The annotations are the test: ruff reads their dict keys as names.
# ruff: noqa: F821

spec: {"key": int} = {"key": 1}


def f(a: {"x": 1}, b: dict(y=2) = {}) -> {"r": type({})}:  # noqa: B006
    return a


class C:
    field: {"c": 3} = dict(c=3)


print(__annotations__, f.__annotations__, C.__annotations__, f.__defaults__)
print(type(__annotations__["spec"]) is dict, type(f.__annotations__["b"]) is dict)
print(type(f.__annotations__["return"]["r"]) is type, f.__annotations__["return"]["r"] is dict)
print(type(spec) is dict, type(C.field) is dict)
