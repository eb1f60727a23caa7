"""queue.Queue: what the producer wrote before put(item) is visible after get() returns it."""
import queue
import threading

jobs = queue.Queue()
specs = {}


def producer():
    for n in range(3):
        specs[n] = {"size": n * 10}
        jobs.put(n)
    jobs.put(None)


def consumer(out):
    while (n := jobs.get()) is not None:
        out.append(specs[n]["size"])


out = []
threads = [threading.Thread(target=producer), threading.Thread(target=consumer, args=(out,))]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(out)
