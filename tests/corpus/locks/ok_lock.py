"""Every access under the same lock: a correct counter."""
import threading

lock = threading.Lock()
counts = {}


def work(n):
    for i in range(50):
        with lock:
            counts[i % 5] = counts.get(i % 5, 0) + 1


threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(sorted(counts.items()))
