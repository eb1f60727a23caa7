"""d[k] += 1 is a read and a write, and two threads do it.

PATTERN: lost-update
"""
import threading

hits = {"/": 0}


def handle():
    hits["/"] += 1  # RACE


threads = [threading.Thread(target=handle) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(sorted(hits))
