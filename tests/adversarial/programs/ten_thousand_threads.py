"""10,000 short-lived threads, started in waves of 100: each counts into a shared dict
under a lock and builds a small dict of its own (benchmarks/workloads/thread_churn.py
measures the same program)."""
# races: 0
# timeout: 300
# slow: yes

import threading

counts = {}
lock = threading.Lock()


def work(n):
    own = {i: i * n for i in range(10)}
    with lock:
        counts[n % 16] = counts.get(n % 16, 0) + sum(own.values())


for wave in range(100):
    threads = [threading.Thread(target=work, args=(wave * 100 + i,)) for i in range(100)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
print(len(counts), sum(counts.values()))
