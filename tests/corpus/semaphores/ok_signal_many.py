"""Semaphore(0) counting completions: after N acquires, main has seen all N releases."""
import threading

results = {n: None for n in range(4)}
done = threading.Semaphore(0)


def square(n):
    results[n] = n * n
    done.release()


threads = [threading.Thread(target=square, args=(n,)) for n in range(4)]
for t in threads:
    t.start()
for _ in threads:
    done.acquire()
print(sorted(results.items()))
for t in threads:
    t.join()
