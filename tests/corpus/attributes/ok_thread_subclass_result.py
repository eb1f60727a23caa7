"""A Thread subclass stores its result on itself; the joiner reads it after join()."""
import threading


class Worker(threading.Thread):
    def __init__(self, n):
        super().__init__()
        self.n = n
        self.result = None

    def run(self):
        self.result = self.n * 2


workers = [Worker(n) for n in range(3)]
for w in workers:
    w.start()
for w in workers:
    w.join()
print([w.result for w in workers])
