"""The waiter reads the shared dict after leaving the condition's lock, the producer writes
again without it.

PATTERN: unsynchronized-handoff
"""
import threading

cond = threading.Condition()
box = {}


def producer():
    with cond:
        box["item"] = 1
        cond.notify()
    box["item"] = 2  # RACE


def consumer():
    with cond:
        cond.wait_for(lambda: "item" in box)
    print("got", box["item"] > 0)  # RACE


threads = [threading.Thread(target=consumer), threading.Thread(target=producer)]
for t in threads:
    t.start()
for t in threads:
    t.join()
