"""Sorting a list writes every item: it races with another thread's append.

PATTERN: unordered-accesses
"""
import threading

scores = [3, 1, 2]
started = threading.Barrier(2)


def ranker():
    started.wait()
    scores.sort()  # RACE


def recorder():
    started.wait()
    scores.append(5)  # RACE


threads = [threading.Thread(target=ranker), threading.Thread(target=recorder)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(sorted(scores))
