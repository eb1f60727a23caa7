"""main joins twenty finished workers in turn but one, then starts and joins one more:
the worker it never joined still wrote unordered with main's read.  (racewatch stops
recording a thread's accesses while it is the only one alive and every finished thread
is ordered before it: here it never is.)

PATTERN: unsynchronized-handoff
"""
import threading
import time

results = {}


def idle():
    pass


def late():
    results["late"] = 1  # RACE


workers = [threading.Thread(target=late if i == 7 else idle) for i in range(20)]
for w in workers:
    w.start()
time.sleep(0.1)  # sleeping is not synchronization: every worker has ended by now
for i, w in enumerate(workers):
    if i != 7:
        w.join()
extra = threading.Thread(target=idle)
extra.start()
extra.join()
seen = results.get("late")  # RACE
workers[7].join()
print(seen in (None, 1))  # (which, timing decides)
