"""A worker takes its handler's lock round after round; after the last round it reads the
lock attribute once more (to take the lock later) and goes on with other work.  Meanwhile
another thread takes the lock and replaces it: its write comes after the worker's last
release, but nothing orders it with the worker's read after that release.

PATTERN: inconsistent-locking
"""
import threading
import time


class Handler:
    def __init__(self):
        self.lock = threading.Lock()
        self.count = 0
        self.done = False


h = Handler()


def worker():
    for _ in range(3):
        with h.lock:
            h.count += 1
    lock = h.lock  # RACE
    time.sleep(0.3)
    h.done = True
    with lock:
        pass


def replacer():
    time.sleep(0.1)
    with h.lock:
        h.lock = threading.Lock()  # RACE


threads = [threading.Thread(target=worker), threading.Thread(target=replacer)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(h.count, h.done)
