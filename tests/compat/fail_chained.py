"""Fails on purpose: exceptions from dict methods, chained implicitly and explicitly."""

import sys

stack = {}
try:
    stack.popitem()
except KeyError as exc:
    print("caught", repr(exc), file=sys.stderr)

registry = {"a": 1}


def remove(name):
    try:
        del registry[name]
    except KeyError as exc:
        raise LookupError(f"cannot remove {name}") from exc


def fetch(name):
    try:
        return registry.pop(name)
    except KeyError:
        remove(name)


print(fetch("a"))
print(fetch("b"))
