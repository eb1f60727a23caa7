"""A thread updates a dict under a lock, round after round, and once more under it after
a pause; another thread takes the same lock in between and after: every access is ordered
by the lock."""
import threading
import time

lock = threading.Lock()
stats = {}


def writer():
    for i in range(5):
        with lock:
            stats["n"] = i
    time.sleep(0.1)
    with lock:
        stats["n"] += 1


def reader():
    for _ in range(3):
        with lock:
            print("read", stats.get("n", 0) >= 0)
        time.sleep(0.08)


threads = [threading.Thread(target=writer), threading.Thread(target=reader)]
for t in threads:
    t.start()
for t in threads:
    t.join()
