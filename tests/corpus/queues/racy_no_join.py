"""main reads a worker's result without q.join(): task_done() orders nothing yet.

PATTERN: unsynchronized-handoff
"""
import queue
import threading

work = queue.Queue()
results = {0: None}


def worker():
    n = work.get()
    results[n] = "done"  # RACE
    work.task_done()


threading.Thread(target=worker, daemon=True).start()
work.put(0)
print(results[0] in (None, "done"))  # RACE
work.join()
