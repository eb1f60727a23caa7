"""Where the garbage collector sees a container that a comprehension or list(...) makes:
before its items, as plain Python makes it first and fills it after.  Each collection
walks the collector's list in that order, and an order that jumps back and forth over
memory makes every later collection slower (four times, for 20,000 Futures in a list).

Free-threaded builds keep no such list: their collector walks memory itself."""

import gc
import sys


class Item:
    def __init__(self, n):
        self.n = n
        self.parts = [n]


def comes_first(make, items_of):
    gc.collect()
    gc.disable()   # no collection moves anything before we look
    try:
        container = make()
        young = gc.get_objects(generation=0)
    finally:
        gc.enable()
    where = {id(o): i for i, o in enumerate(young)}
    first_item = min(where[id(item)] for item in items_of(container))
    return where[id(container)] < first_item


CASES = {
    "list comprehension": (lambda: [Item(i) for i in range(50)], list),
    "set comprehension": (lambda: {Item(i) for i in range(50)}, list),
    "dict comprehension": (lambda: {i: Item(i) for i in range(50)}, lambda d: d.values()),
    "list(generator)": (lambda: list(Item(i) for i in range(50)), list),
    "nested": (lambda: [[Item(i)] for i in range(50)], list),
}

free_threaded = not getattr(sys, "_is_gil_enabled", lambda: True)()
for name, (make, items_of) in CASES.items():
    first = True if free_threaded else comes_first(make, items_of)
    print(f"{name}: the container comes {'first' if first else 'after its items'}")
