"""Lists handed over through a queue.Queue: put() happens before the get() that returns it,
so the consumer may change what the producer filled."""
import queue
import threading

batches = queue.Queue()


def producer():
    for n in range(3):
        batch = [n, n + 1]
        batch.append(n + 2)
        batches.put(batch)
    batches.put(None)


def consumer(out):
    while (batch := batches.get()) is not None:
        batch.sort(reverse=True)
        batch[0] += 100
        out.append(batch)


out = []
threads = [threading.Thread(target=producer), threading.Thread(target=consumer, args=(out,))]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(out)
