"""qsize() shows the job is queued, but only get() hands it over: the monitor races.

PATTERN: unsynchronized-handoff
"""
import queue
import threading
import time

jobs = queue.Queue()
spec = {"size": 0}


def producer():
    spec["size"] = 10  # RACE
    jobs.put("job")


def monitor():
    while jobs.qsize() == 0:
        time.sleep(0.001)
    print("queued job of size", spec["size"])  # RACE


threads = [threading.Thread(target=producer), threading.Thread(target=monitor)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(jobs.get())
