"""BoundedSemaphore(2): the permits it started with carry no edge, whoever releases first.

PATTERN: unordered-accesses
"""
import threading

workers = threading.BoundedSemaphore(2)
last_run = {"by": None}


def run(name):
    workers.acquire()
    last_run["by"] = name  # RACE
    workers.release()


threads = [threading.Thread(target=run, args=(f"job{n}",)) for n in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(last_run["by"] in ("job0", "job1"))
