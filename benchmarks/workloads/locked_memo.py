"""Lock-heavy memoization: 4 threads memoize a function through one shared dict under one
lock, as ``functools.lru_cache`` does without its C accelerator: every call takes the lock
once to look up and, on a miss, once more to store."""

import threading

memo = {}
lock = threading.Lock()


def cost(n):
    """What the memo saves: a small computation per key."""
    total = 0
    for i in range(n % 7 + 3):
        total += i * n
    return total


def memoized(n):
    with lock:
        value = memo.get(n)
    if value is None:
        value = cost(n)
        with lock:
            memo[n] = value
    return value


def work(seed):
    total = 0
    for i in range(100_000):
        total += memoized((seed * 7919 + i * 31) % 20_000)
    return total


results = []
threads = [threading.Thread(target=lambda s=s: results.append(work(s))) for s in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(len(memo), sum(results) > 0)
