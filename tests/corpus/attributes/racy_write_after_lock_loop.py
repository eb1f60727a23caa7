"""A thread updates an attribute under a lock, round after round, then once more after
the loop without it; another thread takes the lock later and reads it.  The lock orders
the reader after the writes made while the writer held it, not after the last one.

PATTERN: inconsistent-locking
"""
import threading
import time


class Gauge:
    def __init__(self):
        self.level = 0


lock = threading.Lock()
gauge = Gauge()


def writer():
    for i in range(5):
        with lock:
            gauge.level = i
    gauge.level = 99  # RACE


def reader():
    time.sleep(0.2)
    with lock:
        print("read", gauge.level >= 0)  # RACE


threads = [threading.Thread(target=writer), threading.Thread(target=reader)]
for t in threads:
    t.start()
for t in threads:
    t.join()
