"""A module-level counter rebound under ``global`` from two threads: a lost update.

PATTERN: lost-update
"""
import threading

total = 0


def work():
    global total
    for _ in range(50):
        total += 1  # RACE


threads = [threading.Thread(target=work) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(total <= 100)  # updates can be lost (free-threaded builds lose some)
