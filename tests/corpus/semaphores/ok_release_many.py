"""release(n) hands n permits at once: each worker that takes one is ordered after it."""
import threading

start = threading.Semaphore(0)
plan = {}
picked = {n: None for n in range(3)}


def worker(n):
    start.acquire()
    picked[n] = plan["steps"][n]


threads = [threading.Thread(target=worker, args=(n,)) for n in range(3)]
for t in threads:
    t.start()
plan["steps"] = ["fetch", "parse", "store"]
start.release(3)
for t in threads:
    t.join()
print(picked)
