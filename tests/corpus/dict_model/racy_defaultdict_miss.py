"""A defaultdict(list) miss inserts the key: two threads missing the same key race.

PATTERN: lost-update
"""
import threading
from collections import defaultdict

groups = defaultdict(list)


def add(item):
    groups["evens"].append(item)  # RACE


threads = [threading.Thread(target=add, args=(n,)) for n in (2, 4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(sorted(groups))
