"""Objects made by one thread and handed over through a queue: the put happens before the
get, so the consumer's reads are ordered after the producer's writes."""
import queue
import threading


class Job:
    def __init__(self, n):
        self.n = n
        self.result = None


jobs = queue.Queue()
done = queue.Queue()


def worker():
    while True:
        job = jobs.get()
        if job is None:
            break
        job.result = job.n * job.n
        done.put(job)


t = threading.Thread(target=worker)
t.start()
for n in range(5):
    jobs.put(Job(n))
jobs.put(None)
results = sorted(done.get().result for _ in range(5))
t.join()
print(results)
