"""The registry hands out one lock per key, but the second job holds on to nothing: it
reads the result without taking the lock, while the first job's lock is still alive.
A lookup that finds the key present orders nothing.

PATTERN: inconsistent-locking
"""
import threading
import time
import weakref

locks = weakref.WeakValueDictionary()
locks_guard = threading.Lock()
results = {"report": None}
peeked = {"report": None}


class KeyLock:
    def __init__(self):
        self.lock = threading.Lock()


def lock_for(key):
    with locks_guard:
        found = locks.get(key)
        if found is None:
            found = locks[key] = KeyLock()
        return found


held = lock_for("report")


def build():
    with held.lock:
        results["report"] = "built"  # RACE


def peek():
    if "report" in locks:
        peeked["report"] = results["report"]  # RACE


builder = threading.Thread(target=build)
builder.start()
time.sleep(0.2)
peeker = threading.Thread(target=peek)
peeker.start()
builder.join()
peeker.join()
print(sorted(results))
