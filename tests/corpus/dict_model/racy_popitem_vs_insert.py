"""``popitem()`` takes the last key inserted: which one depends on the order of the keys,
so it reads them, and races with an insert by another thread.

PATTERN: unordered-accesses
"""
import threading

pending = {"a": 1}
taken = []


def add():
    pending["b"] = 2  # RACE


def take():
    taken.append(pending.popitem())  # RACE


threads = [threading.Thread(target=add), threading.Thread(target=take)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(len(taken))
