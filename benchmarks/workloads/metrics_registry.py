"""A metrics registry shared by 4 worker threads: each handles 60,000 small requests (a
little work of its own each) and counts every one in shared dicts under one lock, as a
service's request counters and latency totals are kept.  The lock is held briefly, so a
thread mostly takes it again itself before another one wants it."""

import threading

lock = threading.Lock()
counts = {}
totals = {}


def handle(n):
    # the request's own work: parse a small header line
    line = f"GET /item/{n % 97} HTTP/1.1"
    method, path, _ = line.split(" ")
    return path, len(path) + (n & 7)


def worker(first):
    for n in range(first, first + 60_000):
        path, cost = handle(n)
        with lock:
            counts[path] = counts.get(path, 0) + 1
            totals[path] = totals.get(path, 0) + cost


threads = [threading.Thread(target=worker, args=(i * 60_000,)) for i in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(len(counts), sum(counts.values()), sum(totals.values()))
