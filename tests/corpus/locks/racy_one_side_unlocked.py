"""One thread updates under a lock, the other forgets to take it.

PATTERN: inconsistent-locking
"""
import threading

lock = threading.Lock()
cache = {}


def careful():
    with lock:
        cache["user:1"] = "alice"  # RACE


def careless():
    cache["user:1"] = "bob"  # RACE


threads = [threading.Thread(target=careful), threading.Thread(target=careless)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(len(cache))
