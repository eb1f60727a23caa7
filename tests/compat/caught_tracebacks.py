"""Tracebacks that the program itself formats, of exceptions raised inside dict methods."""

import traceback
from collections import defaultdict


class BadHash:
    def __hash__(self):
        raise ValueError("bad hash")


class BadEq:
    def __eq__(self, other):
        raise ValueError("bad eq")

    __hash__ = object.__hash__


def failing_factory():
    return 1 / 0


d = {"a": 1}
dd = defaultdict(failing_factory)
cases = {
    "getitem": lambda: d["missing"],
    "pop": lambda: d.pop("missing"),
    "popitem": lambda: {}.popitem(),
    "delitem": lambda: d.__delitem__("missing"),
    "setitem bad hash": lambda: d.__setitem__(BadHash(), 1),
    "contains bad hash": lambda: BadHash() in d,
    "update bad element": lambda: d.update([("x",)]),
    "ior bad operand": lambda: d.__ior__(1),
    "defaultdict factory": lambda: dd["missing"],
    "eq with bad value": lambda: {"k": BadEq()} == {"k": BadEq()},
}
for name, case in cases.items():
    try:
        case()
    except Exception:
        print(f"--- {name}")
        print(traceback.format_exc())
