"""4 worker threads, each keeping its own statistics under its own lock (requests, bytes
and hits per path, as a server keeps them per connection), 60,000 requests each; a
monitor thread reads every worker's statistics under its lock 50 times a second, as a
metrics exporter does.  Each lock is mostly taken again by the thread that released it."""

import threading


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.requests = 0
        self.bytes = 0
        self.by_path = {}


def handle(n):
    # the request's own work: parse its request line
    method, path, _ = f"GET /item/{n % 97} HTTP/1.1".split(" ")
    return path, len(path) + (n & 7)


def worker(stats, first):
    for n in range(first, first + 60_000):
        path, size = handle(n)
        with stats.lock:
            stats.requests += 1
            stats.bytes += size
            stats.by_path[path] = stats.by_path.get(path, 0) + 1


def monitor(all_stats, done, seen):
    while not done.wait(0.02):
        total = 0
        for stats in all_stats:
            with stats.lock:
                total += stats.requests
        seen.append(total)


all_stats = [Stats() for _ in range(4)]
done, seen = threading.Event(), []
watcher = threading.Thread(target=monitor, args=(all_stats, done, seen))
watcher.start()
workers = [threading.Thread(target=worker, args=(s, i * 60_000)) for i, s in enumerate(all_stats)]
for t in workers:
    t.start()
for t in workers:
    t.join()
done.set()
watcher.join()
print(sum(s.requests for s in all_stats), sum(s.bytes for s in all_stats),
      sum(len(s.by_path) for s in all_stats),
      all(a <= b for a, b in zip(seen, seen[1:], strict=False)))
