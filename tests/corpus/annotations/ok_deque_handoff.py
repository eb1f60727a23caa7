"""A hand-off through a polled deque (not tracked), declared with release()/acquire()."""
import threading
import time
from collections import deque

import racewatch

results = {}
mailbox = deque()


def worker():
    results["answer"] = 42
    racewatch.release(mailbox)
    mailbox.append("ready")


t = threading.Thread(target=worker)
t.start()
while not mailbox:
    time.sleep(0.001)
racewatch.acquire(mailbox)
print(results["answer"])
t.join()
