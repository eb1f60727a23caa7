"""A stop flag in a global, polled with ``time.sleep``: sleeping is not synchronization, so
nothing orders the write of the flag before the reads that see it.

PATTERN: unsynchronized-handoff
"""
import threading
import time

stopping = False
ticks = 0


def worker():
    global ticks
    while not stopping:  # RACE
        ticks += 1
        time.sleep(0.001)


t = threading.Thread(target=worker)
t.start()
time.sleep(0.02)
stopping = True  # RACE
t.join()
print(ticks > 0)
