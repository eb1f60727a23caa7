"""A lock released inside racewatch.ignore() still orders the thread that takes it next.

The reader sleeps first (sleeping orders nothing), so the writer releases first in
practice; in the other order the reader's release orders the writer: correct either way.
"""
import threading
import time

import racewatch

lock = threading.Lock()
shared = {"v": 0}


def writer():
    lock.acquire()
    shared["v"] = 1
    with racewatch.ignore():
        lock.release()


def reader(out):
    time.sleep(0.05)
    with lock:
        out.append(shared["v"] in (0, 1))


out = []
threads = [threading.Thread(target=writer), threading.Thread(target=reader, args=(out,))]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(out)
