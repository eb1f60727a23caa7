"""A thread reads two keys at one line in one epoch (the detector may keep one record for
both), then, after telling a writer that it has read them, reads one of them again.  The
writer's write of the other key is ordered after every read of it; its write of the key
read again is not.

PATTERN: unsynchronized-handoff
"""
import threading
import time

table = {}
filled, have_read = threading.Event(), threading.Event()
read_again = bytearray(1)   # not watched: no happens-before through it


def fill():
    for key in ("x", "y"):
        table[key] = 0
    filled.set()


def read(out):
    filled.wait()
    total = 0
    for key in ("x", "y"):
        total += table[key]
    out.append(total)
    # other reads, each on a line of its own
    out.append(table.get("a"))
    out.append(table.get("b"))
    out.append(table.get("c"))
    out.append(table.get("d"))
    out.append(table.get("e"))
    have_read.set()
    out.append(table["x"])  # RACE
    read_again[0] = 1


def write():
    have_read.wait()
    while not read_again[0]:
        time.sleep(0.01)
    table["y"] = 1
    table["x"] = 2  # RACE


out = []
threads = [threading.Thread(target=fill), threading.Thread(target=read, args=(out,)),
           threading.Thread(target=write)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(out, sorted(table.items()))
