"""A memoizing cache with check-then-act: `if key not in cache: cache[key] = compute()`.

Two threads can both miss and both compute; worse, a reader can see the key inserted
while the dict is being iterated elsewhere.

    racewatch run examples/cache_racy.py
"""

import threading

_cache = {}


def expensive(n):
    return sum(i * i for i in range(n))


def cached(n):
    if n not in _cache:
        _cache[n] = expensive(n)
    return _cache[n]


def worker(numbers, out):
    out.append(sum(cached(n) for n in numbers))


results = []
threads = [threading.Thread(target=worker, args=([100, 200, 300], results)) for _ in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("results agree:", len(set(results)) == 1)
