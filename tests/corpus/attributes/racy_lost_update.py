"""``self.n += 1`` from two threads: a read then a write of the attribute, and another
thread's write can fall in between (a lost update).

PATTERN: lost-update
"""
import threading


class Counter:
    def __init__(self):
        self.n = 0

    def hit(self):
        self.n += 1  # RACE


counter = Counter()
threads = [threading.Thread(target=lambda: [counter.hit() for _ in range(50)])
           for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(counter.n <= 100)  # updates can be lost (free-threaded builds lose some)
