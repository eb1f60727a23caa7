"""The producer changes the spec after put(): the consumer is ordered only before that.

PATTERN: unsynchronized-handoff
"""
import queue
import threading

jobs = queue.Queue()
specs = {"size": 0}


def producer():
    specs["size"] = 10
    jobs.put("job")
    specs["size"] = 20  # RACE


def consumer():
    jobs.get()
    print(specs["size"] > 0)  # RACE


threads = [threading.Thread(target=producer), threading.Thread(target=consumer)]
for t in threads:
    t.start()
for t in threads:
    t.join()
