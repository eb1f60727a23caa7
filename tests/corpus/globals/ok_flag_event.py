"""The same worker stopped through an Event: set() happens before the wait that sees it."""
import threading
import time

stop = threading.Event()
ticks = 0


def worker():
    global ticks
    while not stop.is_set():
        ticks += 1
        time.sleep(0.001)


t = threading.Thread(target=worker)
t.start()
time.sleep(0.02)
stop.set()
t.join()
print(ticks > 0)
