"""A reentrant lock taken twice by the same thread orders the threads."""
import threading

lock = threading.RLock()
totals = {}


def add(key, n):
    with lock:
        totals[key] = totals.get(key, 0) + n


def add_twice(key):
    with lock:
        add(key, 1)
        add(key, 1)


threads = [threading.Thread(target=add_twice, args=("x",)) for _ in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(totals)
