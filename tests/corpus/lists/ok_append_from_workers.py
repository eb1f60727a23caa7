"""Workers append their results to one list: not a race.

``list.append`` is atomic on every CPython, with or without the GIL: two appends from two
threads only decide the order of the items, which nobody reads here until the threads are
joined.  An append is an *update* of the list's items, and updates do not race with each
other.
"""
import threading

results = []


def work(n):
    results.append(n * n)


threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(sorted(results))
