"""The memoizing cache, fixed: lookups and inserts under one lock; the computation
itself runs outside it (the first result stored wins).

    racewatch run examples/cache_fixed.py
"""

import threading

_cache = {}
_cache_lock = threading.Lock()


def expensive(n):
    return sum(i * i for i in range(n))


def cached(n):
    with _cache_lock:
        if n in _cache:
            return _cache[n]
    value = expensive(n)
    with _cache_lock:
        return _cache.setdefault(n, value)


def worker(numbers, out):
    out.append(sum(cached(n) for n in numbers))


results = []
threads = [threading.Thread(target=worker, args=([100, 200, 300], results)) for _ in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("results agree:", len(set(results)) == 1)
