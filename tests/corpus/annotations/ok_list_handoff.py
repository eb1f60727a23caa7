"""A hand-off through a plain list polled in a loop, declared with release()/acquire()."""
import threading
import time

import racewatch

results = {}
mailbox = []


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
