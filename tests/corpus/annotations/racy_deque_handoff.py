"""The same hand-off through a polled deque, without annotations: racewatch cannot see it.

PATTERN: unsynchronized-handoff
"""
import threading
import time
from collections import deque

results = {}
mailbox = deque()


def worker():
    results["answer"] = 42  # RACE
    mailbox.append("ready")


t = threading.Thread(target=worker)
t.start()
while not mailbox:
    time.sleep(0.001)
print(results["answer"])  # RACE
t.join()
