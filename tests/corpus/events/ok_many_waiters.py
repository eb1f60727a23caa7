"""One set() releases several waiters; each reads what main wrote before it."""
import threading

settings = {}
go = threading.Event()
seen = {n: None for n in range(3)}


def worker(n):
    go.wait()
    seen[n] = settings["mode"]


threads = [threading.Thread(target=worker, args=(n,)) for n in range(3)]
for t in threads:
    t.start()
settings["mode"] = "fast"
go.set()
for t in threads:
    t.join()
print(seen)
