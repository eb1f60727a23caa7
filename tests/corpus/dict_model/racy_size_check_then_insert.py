"""Check-then-act on the size: a cache bounded to two entries checks ``len`` and then
inserts.  Two threads can both see room for one more, and the cache grows past its bound.

PATTERN: check-then-act
"""
import threading

LIMIT = 2
cache = {"a": 1}


def remember(key, value):
    if len(cache) < LIMIT:  # RACE
        cache[key] = value  # RACE


threads = [threading.Thread(target=remember, args=kv) for kv in (("b", 2), ("c", 3))]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(len(cache) in (2, 3))
