"""One thread looks up every key of a large dict, each through a key object of its own;
another writes one of those keys a moment later, with nothing ordering the two.  (Once a
thread has looked up 8,192 keys of a dict, the compiled core rebuilds its table of the
dict's locations with every key at once: the reads recorded before must outlive that.)

PATTERN: unsynchronized-handoff
"""
import threading
import time

SIZE = 30_000
table = {f"k{i}": i for i in range(SIZE)}


def reader(out):
    total = 0
    for i in range(SIZE):
        total += table[f"k{i}"]  # RACE
    out.append(total)


def writer():
    time.sleep(0.5)  # sleeping is not synchronization
    table["k1"] = -1  # RACE


out = []
threads = [threading.Thread(target=reader, args=(out,)), threading.Thread(target=writer)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(len(out), len(table))
