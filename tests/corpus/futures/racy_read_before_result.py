"""main peeks at what the task writes before asking for its result.

PATTERN: unsynchronized-handoff
"""
from concurrent.futures import ThreadPoolExecutor

progress = {}


def download():
    progress["bytes"] = 4096  # RACE
    return "done"


with ThreadPoolExecutor() as pool:
    future = pool.submit(download)
    print(progress.get("bytes") in (None, 4096))  # RACE
    print(future.result())
