"""The writer keeps writing after set(): the waiter is ordered only after what came before.

PATTERN: unsynchronized-handoff
"""
import threading

progress = {"step": 0}
started = threading.Event()


def job():
    progress["step"] = 1
    started.set()
    progress["step"] = 2  # RACE


t = threading.Thread(target=job)
t.start()
started.wait()
print(progress["step"] >= 1)  # RACE
t.join()
