"""Two producers put into one queue: the queue's own lock does not order them.

PATTERN: unordered-accesses
"""
import queue
import threading

events = queue.Queue()
stats = {"last_sender": None}


def produce(name):
    for n in range(3):
        stats["last_sender"] = name  # RACE
        events.put((name, n))


threads = [threading.Thread(target=produce, args=(name,)) for name in ("a", "b")]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(sorted(events.get() for _ in range(6)))
