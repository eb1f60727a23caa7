"""Workers insert their results; the main thread waits by polling ``len(results)``.

The inserts commute with each other, but not with ``len``: the size the main thread reads
is not ordered after the insert it counts (``time.sleep`` is not synchronization), so
nothing promises that the value stored with it is there to be read.  Join the threads,
or wait on an Event or a queue.

PATTERN: unsynchronized-handoff
"""
import threading
import time

results = {}


def work(n):
    results[n] = n * n  # RACE


threads = [threading.Thread(target=work, args=(n,)) for n in range(2)]
for t in threads:
    t.start()
while len(results) < 2:  # RACE
    time.sleep(0.01)
print(sorted(results.items()))
for t in threads:
    t.join()
