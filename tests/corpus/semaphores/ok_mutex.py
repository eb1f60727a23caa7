"""Semaphore(1) as a mutex: each holder is ordered after the release of the one before."""
import threading

slot = threading.Semaphore(1)
counts = {}


def work():
    for i in range(20):
        with slot:
            counts[i % 3] = counts.get(i % 3, 0) + 1


threads = [threading.Thread(target=work) for _ in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(sorted(counts.items()))
