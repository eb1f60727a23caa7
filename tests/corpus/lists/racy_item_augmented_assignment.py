"""`totals[0] += 1` in two threads: a read then a write of item 0, a lost update.

PATTERN: lost-update
"""
import threading

totals = [0]


def work():
    for _ in range(100):
        totals[0] += 1  # RACE


threads = [threading.Thread(target=work) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(totals[0] <= 200)
