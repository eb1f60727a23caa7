"""Semaphore(2) lets two holders in at once: they are not ordered between them.

PATTERN: lost-update
"""
import threading

connections = threading.Semaphore(2)
stats = {"open": 0}


def use_connection():
    with connections:
        stats["open"] += 1  # RACE


threads = [threading.Thread(target=use_connection) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(stats["open"] <= 2)  # an update can be lost
