"""defaultdict imported under another name, through the collections module.

PATTERN: lost-update
"""
import collections
import threading
from collections import defaultdict as dd

by_module = collections.defaultdict(int)
by_alias = dd(set)


def work(n):
    by_module["n"] += n  # RACE
    by_alias["seen"].add(n)


threads = [threading.Thread(target=work, args=(n,)) for n in (1, 2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(sorted(by_alias), sorted(by_module))
