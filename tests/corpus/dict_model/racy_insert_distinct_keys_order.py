"""With ``report_key_order=1``, two threads inserting different keys race: the order of the
keys (what iteration, ``popitem`` and ``repr`` show) depends on which thread ran first.

OPTIONS: --report-key-order
PATTERN: unordered-accesses
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
