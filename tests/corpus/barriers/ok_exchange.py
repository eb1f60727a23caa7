"""Each party writes its own key, then after the barrier reads what the others wrote."""
import threading

PARTIES = 3
barrier = threading.Barrier(PARTIES)
partial = {n: None for n in range(PARTIES)}
totals = {n: None for n in range(PARTIES)}


def worker(n):
    partial[n] = sum(range(n * 10, n * 10 + 10))
    barrier.wait()
    totals[n] = sum(partial[m] for m in range(PARTIES))


threads = [threading.Thread(target=worker, args=(n,)) for n in range(PARTIES)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(totals)
