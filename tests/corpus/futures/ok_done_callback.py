"""A done callback added after the task ended runs in the caller, ordered after the task."""
import time
from concurrent.futures import ThreadPoolExecutor

rows = {"count": None}


def fetch():
    rows["count"] = 3


def on_done(future):
    print("fetched", rows["count"], "rows")


with ThreadPoolExecutor() as pool:
    future = pool.submit(fetch)
    # done() hands nothing over: the callback, run here by add_done_callback, must.
    while not future.done():
        time.sleep(0.001)
    future.add_done_callback(on_done)
