"""Two tasks in one pool write the same key: submit order does not order the tasks.

PATTERN: unordered-accesses
"""
import threading
from concurrent.futures import ThreadPoolExecutor

both_running = threading.Barrier(2)  # so the two tasks run on two different workers
state = {"owner": None}


def claim(name):
    both_running.wait()
    state["owner"] = name  # RACE


with ThreadPoolExecutor(max_workers=2) as pool:
    pool.submit(claim, "first")
    pool.submit(claim, "second")
print(state["owner"] in ("first", "second"))
