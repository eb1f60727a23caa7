"""Two producers on one SimpleQueue: putting into the same queue does not order them.

PATTERN: lost-update
"""
import queue
import threading

inbox = queue.SimpleQueue()
seen = {"count": 0}


def send(n):
    seen["count"] += 1  # RACE
    inbox.put(n)


threads = [threading.Thread(target=send, args=(n,)) for n in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(sorted(inbox.get() for _ in range(2)))
