"""A SIGALRM handler sets an Event while the main thread is setting another one.

A signal handler runs between two bytecodes of the main thread, and so possibly in the
middle of racewatch's bookkeeping for the main thread's own ``set()``.  (The handler
sets an Event of its own, and does nothing when the next alarm comes while it runs:
otherwise plain python deadlocks too, whenever a signal comes while ``set()`` holds the
lock of the Event that the handler sets.)
"""
# races: 0
import signal
import threading

mine = threading.Event()
theirs = threading.Event()
handled = []
busy = []


def on_alarm(signum, frame):
    if busy:
        return
    busy.append(signum)
    theirs.set()
    handled.append(signum)
    busy.clear()


waiter = threading.Thread(target=theirs.wait)  # another thread: racewatch is not idle
waiter.start()
signal.signal(signal.SIGALRM, on_alarm)
signal.setitimer(signal.ITIMER_REAL, 0.001, 0.001)
sets = 0
while len(handled) < 300:
    mine.set()
    mine.clear()
    sets += 1
signal.setitimer(signal.ITIMER_REAL, 0)
waiter.join()
print("handled 300 alarms:", len(handled) >= 300, "; set more than once:", sets > 1)
