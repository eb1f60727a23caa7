"""Workers write results and call task_done(); main reads them after q.join() returns."""
import queue
import threading

work = queue.Queue()
results = {n: None for n in range(6)}


def worker():
    while True:
        n = work.get()
        results[n] = n * n
        work.task_done()


for _ in range(2):
    threading.Thread(target=worker, daemon=True).start()
for n in range(6):
    work.put(n)
work.join()
print(sorted(results.items()))
