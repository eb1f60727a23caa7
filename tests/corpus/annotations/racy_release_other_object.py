"""release() and acquire() on different objects declare no edge.

PATTERN: unsynchronized-handoff
"""
import threading
import time

import racewatch

results = {}
mailbox = []
other = []


def worker():
    results["answer"] = 42  # RACE
    racewatch.release(other)
    mailbox.append("ready")


t = threading.Thread(target=worker)
t.start()
while not mailbox:
    time.sleep(0.001)
racewatch.acquire(mailbox)
print(results["answer"])  # RACE
t.join()
