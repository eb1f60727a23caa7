"""A worker takes its handler's lock round after round; after the last round it reads the
lock attribute once more, waits, and takes that lock again.  Meanwhile another thread
takes the lock and replaces it.  Taking the old lock back orders the worker after that
write, but its read of the attribute came before: the two are unordered.

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
    lock = h.lock  # RACE
    time.sleep(0.3)
    with lock:
        print("taken back")


def replacer():
    time.sleep(0.1)
    with h.lock:
        h.lock = threading.Lock()  # RACE


threads = [threading.Thread(target=worker), threading.Thread(target=replacer)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(h.count)
