"""``clear()`` writes the set of keys: it races with an insert by another thread (an insert
commutes with other inserts, not with a clear).

PATTERN: unordered-accesses
"""
import threading

cache = {"old": 1}


def refill():
    cache["new"] = 2  # RACE


def reset():
    cache.clear()  # RACE


threads = [threading.Thread(target=refill), threading.Thread(target=reset)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(len(cache) <= 1)
