"""A thread takes over the clock slot of a joined one and ends unjoined; main then joins
the last other thread: it is alone, but not ordered after that thread's write.  (While a
thread is the only one alive and every finished thread is ordered before it, racewatch
stops recording its accesses: a thread that ended since main last looked must count.)

PATTERN: unsynchronized-handoff
"""
import threading
import time

results = {}


def idle():
    pass


def late():
    results["late"] = 1  # RACE


a = threading.Thread(target=idle)
a.start()
time.sleep(0.05)  # sleeping is not synchronization: a has ended by now
b = threading.Thread(target=idle)
b.start()
time.sleep(0.05)
a.join()
c = threading.Thread(target=late)
c.start()
time.sleep(0.05)  # c has ended, unjoined
b.join()
seen = results.get("late")  # RACE
c.join()
print(seen in (None, 1))  # (which, timing decides)
