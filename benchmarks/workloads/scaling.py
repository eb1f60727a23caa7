"""Scaling: a fixed amount of independent work split over N threads (``scaling.py N``).

Each thread counts weighted word classes in a dict of its own, looking words up in two
shared dicts that the main thread filled before the threads started (read-mostly: nothing
writes them while the threads run).  No lock, no race.  The hot loop touches no object
that another thread touches too, beyond the shared dicts themselves: each thread makes its
own word strings, and the shared values are small ints (immortal).  Without the GIL, plain
Python then runs N threads in 1/N of the time, up to the machine's cores; the runner
compares how racewatch's time falls with plain Python's.
"""

import sys
import threading

THREADS = int(sys.argv[1]) if len(sys.argv) > 1 else 1
TASKS = 2_400_000
VOCABULARY = 2_000

weights = {}
classes = {}
for i in range(VOCABULARY):
    weights[f"word{i}"] = i % 7
    classes[f"word{i}"] = (i * 31) % 200

totals = []


def work(start, stop):
    words = [f"word{i}" for i in range(VOCABULARY)]
    counts = {}
    for n in range(start, stop):
        word = words[n % VOCABULARY]
        cls = classes[word]
        counts[cls] = counts.get(cls, 0) + weights[word]
    totals.append(sum(counts.values()))


share = TASKS // THREADS
threads = [threading.Thread(target=work, args=(k * share, (k + 1) * share))
           for k in range(THREADS)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(sum(totals))
