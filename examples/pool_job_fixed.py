"""The thread-pool job, fixed: each task counts into its own dict and returns it; the
results are merged by the caller, after the pool handed them over.

    racewatch run examples/pool_job_fixed.py
"""

import time
from concurrent.futures import ThreadPoolExecutor

DOCUMENTS = [
    "the quick brown fox",
    "the lazy dog",
    "the fox and the dog",
    "quick quick slow",
]


def fetch(text):
    time.sleep(0.01)  # stands for the I/O that makes a pool worth having
    return text


def count_words(text):
    counts = {}
    for word in fetch(text).split():
        counts[word] = counts.get(word, 0) + 1
    return counts


totals = {}
with ThreadPoolExecutor(max_workers=4) as pool:
    for counts in pool.map(count_words, DOCUMENTS):
        for word, n in counts.items():
            totals[word] = totals.get(word, 0) + n
print("distinct words:", len(totals), "the:", totals["the"])
