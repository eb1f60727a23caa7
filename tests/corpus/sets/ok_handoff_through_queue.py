"""Sets handed over through a queue.Queue: put() happens before the get() that returns it."""
import queue
import threading

handoff = queue.Queue()


def producer():
    for n in range(3):
        group = {n, n + 1}
        group.add(n + 2)
        handoff.put(group)
    handoff.put(None)


def consumer(out):
    while (group := handoff.get()) is not None:
        group.discard(0)
        group |= {99}
        out.append(sorted(group))


out = []
threads = [threading.Thread(target=producer), threading.Thread(target=consumer, args=(out,))]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(out)
