"""The same counter, its increment under a lock: no race."""
import threading


class Counter:
    def __init__(self):
        self.n = 0
        self.lock = threading.Lock()

    def hit(self):
        with self.lock:
            self.n += 1


counter = Counter()
threads = [threading.Thread(target=lambda: [counter.hit() for _ in range(50)])
           for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(counter.n)
