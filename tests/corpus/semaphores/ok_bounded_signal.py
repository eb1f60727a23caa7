"""BoundedSemaphore(1) drained first, then used to hand a result back (acquire with timeout)."""
import threading

handoff = threading.BoundedSemaphore(1)
handoff.acquire()
box = {}


def produce():
    box["payload"] = "data"
    handoff.release()


t = threading.Thread(target=produce)
t.start()
while not handoff.acquire(timeout=0.01):
    pass
print(box["payload"])
t.join()
