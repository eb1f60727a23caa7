"""Check-then-act: `if k not in d: d[k] = ...` in two threads.

PATTERN: check-then-act
"""
import threading

cache = {}


def get_or_create(key):
    if key not in cache:  # RACE
        cache[key] = object()  # RACE
    return cache[key]


threads = [threading.Thread(target=get_or_create, args=("conn",)) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(sorted(cache))
