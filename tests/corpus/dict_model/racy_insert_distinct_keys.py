"""Two threads insert *different* keys: each insert writes the dict's set of keys.

The keys location is the set of keys, the size and the order (SPEC section 2): which
key comes first in the dict depends on which thread ran first.  Pre-create the keys, or
take a lock, when the order or the size matters to anyone.
"""
import threading

results = {}


def work(n):
    results[f"job-{n}"] = n * n  # RACE


threads = [threading.Thread(target=work, args=(n,)) for n in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(sorted(results.items()))
