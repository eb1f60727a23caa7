"""A read of every key (``items()``) races with each write that nothing orders before it:
here with both of the writer's, not only its latest (each racing key is reported).

PATTERN: iteration-while-changing
"""
import threading
import time

d = {1: 0, 2: 0}


def writer():
    d[1] = 1  # RACE
    d[2] = 2


t = threading.Thread(target=writer)
t.start()
time.sleep(0.1)  # not synchronization
items = list(d.items())  # RACE
t.join()
print(sorted(d))
