"""A read-heavy shared cache: 4 threads look up a shared dict, 1% of lookups refresh an
entry under a lock (readers take it too, as a correct cache must)."""

import threading

cache = {f"user:{i}": {"id": i, "name": f"user{i}", "roles": ["reader"]} for i in range(5000)}
lock = threading.RLock()


def serve(seed):
    found = 0
    key_ids = [(seed * 7919 + n * 31) % 5000 for n in range(60_000)]
    for n, i in enumerate(key_ids):
        key = f"user:{i}"
        with lock:
            entry = cache.get(key)
            if n % 100 == 0:
                cache[key] = {"id": i, "name": entry["name"], "roles": ["reader", "writer"]}
        if entry is not None and entry["id"] == i:
            found += 1
    return found


results = []
threads = [threading.Thread(target=lambda s=s: results.append(serve(s))) for s in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(sum(results))
