"""Lazy initialization of a module-level cache: check, then fill, from two threads.

PATTERN: lazy-initialization
"""
import threading

_table = None


def table():
    global _table
    if _table is None:  # RACE
        _table = {n: n * n for n in range(10)}  # RACE
    return _table


threads = [threading.Thread(target=table) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(len(table()))
