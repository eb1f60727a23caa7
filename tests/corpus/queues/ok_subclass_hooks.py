"""A Queue subclass keeps state of its own in _put and _get, which queue.Queue calls only
with its mutex held: the mutex orders them (watchdog's SkipRepeatsQueue does this)."""
import queue
import threading

_EMPTY = object()


class SkipRepeatsQueue(queue.Queue):
    def _init(self, maxsize):
        super()._init(maxsize)
        self.last = _EMPTY

    def put(self, item, block=True, timeout=None):
        with self.mutex:
            repeat = item == self.last
        if not repeat:
            super().put(item, block, timeout)

    def _put(self, item):
        super()._put(item)
        self.last = item

    def _get(self):
        item = super()._get()
        if item is self.last:
            self.last = _EMPTY
        return item


events = SkipRepeatsQueue()


def produce():
    for n in range(200):
        events.put(n // 2)
    events.put(None)


def consume(seen):
    while (item := events.get()) is not None:
        seen.append(item)


seen = []
threads = [threading.Thread(target=produce), threading.Thread(target=consume, args=(seen,))]
for t in threads:
    t.start()
for t in threads:
    t.join()
# A value can come out twice when the consumer takes it between the two puts of it (put's
# check and its insertion are two sections of the mutex): print only what every
# interleaving gives.
print(sorted(set(seen)) == list(range(100)), seen == sorted(seen))
