"""Multi-threaded, lock-protected aggregation: 4 threads fold records into shared dicts.

Every access is checked (no thread is alone); the locks order them, so no race.
"""

import threading
from collections import defaultdict

RECORDS = [(f"region{i % 17}", f"product{i % 101}", i % 13) for i in range(60_000)]

totals = defaultdict(int)
by_region = {}
lock = threading.Lock()


def fold(chunk):
    local = {}
    for region, product, amount in chunk:
        key = (region, product)
        local[key] = local.get(key, 0) + amount
    with lock:
        for (region, product), amount in local.items():
            totals[product] += amount
            per = by_region.setdefault(region, {})
            per[product] = per.get(product, 0) + amount


threads = [threading.Thread(target=fold, args=(RECORDS[i::4],)) for i in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(len(totals), sum(totals.values()), len(by_region))
