"""PriorityQueue: the put() of each (priority, item) pair is ordered before its get()."""
import queue
import threading

tasks = queue.PriorityQueue()
payloads = {"low": None, "mid": None, "high": None}


def schedule(name, priority):
    payloads[name] = name.upper()
    tasks.put((priority, name))


threads = [threading.Thread(target=schedule, args=(name, p))
           for p, name in enumerate(["low", "mid", "high"])]
for t in threads:
    t.start()
got = []
for _ in threads:
    priority, name = tasks.get()
    got.append(payloads[name])
print(sorted(got))
for t in threads:
    t.join()
