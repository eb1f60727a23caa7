"""clear() writes every key: a get of one of them races with it.

PATTERN: unordered-accesses
"""
import threading

cache = {"a": 1, "b": 2}


def flush():
    cache.clear()  # RACE


def lookup(out):
    out.append(cache.get("b") in (None, 2))  # RACE


out = []
threads = [threading.Thread(target=flush), threading.Thread(target=lookup, args=(out,))]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(out)
