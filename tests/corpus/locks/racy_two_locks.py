"""Each thread holds a lock, but not the same one.

PATTERN: inconsistent-locking
"""
import threading

lock_a = threading.Lock()
lock_b = threading.Lock()
cache = {}


def one():
    with lock_a:
        cache["k"] = 1  # RACE


def two():
    with lock_b:
        cache["k"] = 2  # RACE


threads = [threading.Thread(target=one), threading.Thread(target=two)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(len(cache))
