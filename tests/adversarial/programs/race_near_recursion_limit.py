"""A racing write ten frames short of the recursion limit.

Plain python's ``d["k"] = v`` needs no frame of its own; the race it makes must be
reported, and the write must not raise RecursionError.
"""
# races: 1
import _thread
import sys
import threading

d = {}
first_done = _thread.allocate_lock()  # orders the two writes for real, invisibly to racewatch
first_done.acquire()
MARGIN = int(sys.argv[1]) if len(sys.argv) > 1 else 10


def first():
    d["k"] = 1
    first_done.release()


def room(n=0):
    try:
        return room(n + 1)
    except RecursionError:
        return n


def deep(n):
    if n <= 0:
        d["k"] = 2
        return "written"
    return deep(n - 1)


t = threading.Thread(target=first)
t.start()
first_done.acquire()
written = deep(room() - MARGIN)
t.join()
print(written, d)
