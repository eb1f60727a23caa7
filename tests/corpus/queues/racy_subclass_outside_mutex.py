"""A Queue subclass counts its puts in put(), before the mutex is taken: the mutex that
orders its _put and _get does not order that count.

PATTERN: lost-update
"""
import queue
import threading


class CountingQueue(queue.Queue):
    def _init(self, maxsize):
        super()._init(maxsize)
        self.puts = 0

    def put(self, item, block=True, timeout=None):
        self.puts += 1  # RACE
        super().put(item, block, timeout)


events = CountingQueue()


def produce(name):
    for n in range(3):
        events.put((name, n))


threads = [threading.Thread(target=produce, args=(name,)) for name in ("a", "b")]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(sorted(events.get() for _ in range(6)))
