"""A Thread subclass overriding run(): start and join still order it.

Each worker updates its own key, made before the workers start (inserting new keys from
several threads would race on the dict's set of keys: see dict_model).
"""
import threading

shared = {n: None for n in range(4)}


class Worker(threading.Thread):
    def __init__(self, n):
        super().__init__(name=f"worker-{n}")
        self.n = n

    def run(self):
        shared[self.n] = self.n * self.n


workers = [Worker(n) for n in range(4)]
for w in workers:
    w.start()
for w in workers:
    w.join()
print(sorted(shared.items()))
