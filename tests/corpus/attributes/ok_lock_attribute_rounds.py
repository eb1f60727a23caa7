"""Two workers each keep statistics under the lock of their own object, round after
round (``with stats.lock:``), and a monitor reads both objects under their locks now and
then; the monitor also reads each lock attribute, which nobody rebinds.  Every access to
the counters is ordered by a lock."""
import threading
import time


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.requests = 0
        self.by_path = {}


def worker(stats, paths):
    for i in range(300):
        path = paths[i % len(paths)]
        with stats.lock:
            stats.requests += 1
            stats.by_path[path] = stats.by_path.get(path, 0) + 1
        if i % 100 == 0:
            time.sleep(0.01)


def monitor(all_stats, done, seen):
    while not done.is_set():
        total = 0
        for stats in all_stats:
            with stats.lock:
                total += stats.requests
        seen.append(total)
        time.sleep(0.005)


all_stats = [Stats(), Stats()]
done, seen = threading.Event(), []
watcher = threading.Thread(target=monitor, args=(all_stats, done, seen))
watcher.start()
workers = [threading.Thread(target=worker, args=(s, ["/a", "/b", "/c"])) for s in all_stats]
for t in workers:
    t.start()
for t in workers:
    t.join()
done.set()
watcher.join()
print(sum(s.requests for s in all_stats), all(a <= b for a, b in zip(seen, seen[1:])))
