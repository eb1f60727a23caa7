"""A worker takes its handler's lock round after round, and the last thing it does is read
the lock attribute again; then it ends.  Another thread, which does not join it, takes
the lock later and replaces it: its write comes after the worker's last release, but
nothing orders it with the worker's read after that release.

PATTERN: inconsistent-locking
"""
import threading
import time


class Handler:
    def __init__(self):
        self.lock = threading.Lock()
        self.count = 0


h = Handler()


def worker():
    for _ in range(3):
        with h.lock:
            h.count += 1
    last = h.lock  # RACE
    return last


def replacer():
    time.sleep(0.3)
    with h.lock:
        h.lock = threading.Lock()  # RACE


threads = [threading.Thread(target=worker), threading.Thread(target=replacer)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(h.count)
