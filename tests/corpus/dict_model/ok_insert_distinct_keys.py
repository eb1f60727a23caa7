"""Workers collect their results into one dict, each under its own key: not a race.

Every dict operation is atomic on every CPython, with or without the GIL: two threads
inserting *different* keys only decide the order of the keys, which nobody reads here
until the threads are joined.  (``racy_insert_distinct_keys_order.py`` is the same program
with ``report_key_order=1``, for programs that rely on the order of insertion.)
"""
import threading

results = {}


def work(n):
    results[n] = n * n


threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(sorted(results.items()))
