"""The writer holds the RLock (twice); the reader does not take it at all.

PATTERN: inconsistent-locking
"""
import threading

lock = threading.RLock()
data = {}


def writer():
    with lock:
        with lock:
            data["v"] = 1  # RACE


def reader():
    print("seen", data.get("v") in (None, 1))  # RACE


threads = [threading.Thread(target=writer), threading.Thread(target=reader)]
for t in threads:
    t.start()
for t in threads:
    t.join()
