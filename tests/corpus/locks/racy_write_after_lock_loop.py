"""A thread updates a dict under a lock, round after round, then once more after the loop
without it; another thread takes the lock later and reads the key.  The lock orders the
reader after the writes made while the writer held it, not after the last one.

PATTERN: inconsistent-locking
"""
import threading
import time

lock = threading.Lock()
stats = {}


def writer():
    for i in range(5):
        with lock:
            stats["n"] = i
    stats["n"] = 99  # RACE


def reader():
    time.sleep(0.2)
    with lock:
        print("read", stats["n"] >= 0)  # RACE


threads = [threading.Thread(target=writer), threading.Thread(target=reader)]
for t in threads:
    t.start()
for t in threads:
    t.join()
