"""Two threads share a pool: a task thread A submits is not ordered after what B wrote.

PATTERN: unsynchronized-handoff
"""
import threading
from concurrent.futures import ThreadPoolExecutor

settings = {"mode": "slow"}
reader_started = threading.Event()


def read_mode():
    mode = settings["mode"]  # RACE
    reader_started.set()
    return mode


def wait_for_reader():
    # Keeps B's task off the worker that runs A's: program order there would be an edge.
    reader_started.wait()


def thread_a(pool, out):
    out.append(pool.submit(read_mode).result() in ("slow", "fast"))


def thread_b(pool):
    settings["mode"] = "fast"  # RACE
    pool.submit(wait_for_reader).result()


out = []
with ThreadPoolExecutor(max_workers=2) as pool:
    threads = [threading.Thread(target=thread_b, args=(pool,)),
               threading.Thread(target=thread_a, args=(pool, out))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
print(out)
