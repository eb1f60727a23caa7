"""A thread-pool job that tallies words into a shared dict from every task.

Each task does `totals[word] = totals.get(word, 0) + 1`: tasks run at the same time on
the pool's threads and updates are lost.

    racewatch run examples/pool_job_racy.py
"""

import time
from concurrent.futures import ThreadPoolExecutor

DOCUMENTS = [
    "the quick brown fox",
    "the lazy dog",
    "the fox and the dog",
    "quick quick slow",
]

totals = {}


def fetch(text):
    time.sleep(0.01)  # stands for the I/O that makes a pool worth having
    return text


def count_words(text):
    for word in fetch(text).split():
        totals[word] = totals.get(word, 0) + 1


with ThreadPoolExecutor(max_workers=4) as pool:
    list(pool.map(count_words, DOCUMENTS))
print("distinct words:", len(totals))
