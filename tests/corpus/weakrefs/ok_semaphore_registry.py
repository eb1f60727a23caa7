"""A garbage-collected registry of semaphores, shaped like oslo.concurrency's lockutils:
a lookup that misses (KeyError) makes a fresh Semaphore, whose initial permit carries no
edge; what orders the two callers is that the old semaphore died first."""
import threading
import time
import weakref


class Semaphores:
    def __init__(self):
        self._semaphores = weakref.WeakValueDictionary()
        self._lock = threading.Lock()

    def get(self, name):
        with self._lock:
            try:
                return self._semaphores[name]
            except KeyError:
                sem = threading.Semaphore()
                self._semaphores[name] = sem
                return sem


semaphores = Semaphores()
inventory = {"widgets": 10}


def reserve(n):
    with semaphores.get("inventory"):
        inventory["widgets"] -= n


first = threading.Thread(target=reserve, args=(3,))
first.start()
time.sleep(0.2)
second = threading.Thread(target=reserve, args=(4,))
second.start()
first.join()
second.join()
print(inventory["widgets"])
