"""Postponed annotations that contain dict displays stay the strings that were written."""

from __future__ import annotations

import typing

# The annotations are the test: ruff reads their dict keys as names, and would modernize them.
# ruff: noqa: F821, UP006, UP037, UP045

config: {"key": int, "nested": {"x": str}} = {"key": 1}
plain: dict[str, int] = dict(a=1)
counter: int


def handler(event: {"type": str}, *rest: {"r": 1}, **extra: dict(a=int)) -> {"ok": bool}:
    return {"ok": True}


def plain_hints(a: dict[str, int], b: typing.Optional[dict] = None) -> dict:
    return {}


class Model:
    fields: {"id": int, "name": str} = {}
    other: typing.Dict[str, {"inner": int}]

    def method(self, x: {"m": 1} = {"default": 1}) -> {"r": type({})}:  # noqa: B006
        return x


print(__annotations__)
print(handler.__annotations__)
print(Model.__annotations__, Model.method.__annotations__, Model.method.__defaults__)
print(config, plain, handler({}), Model().method())
print(typing.get_type_hints(plain_hints))
print(type(config) is dict, type(Model.fields) is dict, type(Model().method()) is dict)
