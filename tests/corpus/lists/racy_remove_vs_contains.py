"""Check-then-act on a list: `if x in l: l.remove(x)` in two threads.

PATTERN: check-then-act
"""
import threading

waiting = ["alice", "bob"]


def leave(name):
    if name in waiting:  # RACE
        waiting.remove(name)  # RACE


threads = [threading.Thread(target=leave, args=("alice",)) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(waiting)
