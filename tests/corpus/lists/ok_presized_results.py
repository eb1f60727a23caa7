"""Workers fill a pre-sized list, each its own position: not a race."""
import threading

results = [None] * 4


def work(n):
    results[n] = n * n


threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(results)
