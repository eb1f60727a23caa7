"""Fails on purpose: a defaultdict whose factory raises, reached through a method call."""

from collections import defaultdict


def make_default():
    raise RuntimeError("no default for you")


class Cache:
    def __init__(self):
        self.table = defaultdict(make_default, {"present": 1})

    def get(self, key):
        return self.table[key]


cache = Cache()
print(cache.get("present"))
print(cache.get("absent"))
