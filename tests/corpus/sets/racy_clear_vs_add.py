"""clear() writes every element and the members: it races with another thread's add.

PATTERN: unordered-accesses
"""
import threading

dirty = {"page-1"}
started = threading.Barrier(2)


def flush():
    started.wait()
    dirty.clear()  # RACE


def touch():
    started.wait()
    dirty.add("page-2")  # RACE


threads = [threading.Thread(target=flush), threading.Thread(target=touch)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(len(dirty) <= 1)
