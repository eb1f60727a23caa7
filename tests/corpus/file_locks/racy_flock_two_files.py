"""Each function guards the totals with a lock file of its own: two files are two locks,
and nothing orders the two sections.

PATTERN: lost-update
"""
import fcntl
import os
import tempfile
import threading

workdir = tempfile.TemporaryDirectory()
totals = {"items": 0}


def locked(name):
    fd = os.open(os.path.join(workdir.name, name), os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def add(delta):
    # One line for both threads: whichever of them comes first, the race is this line's
    # read-modify-write against itself.
    totals["items"] += delta  # RACE


def count_order():
    fd = locked("orders.lock")
    add(1)
    os.close(fd)


def count_return():
    fd = locked("returns.lock")
    add(-1)
    os.close(fd)


threads = [threading.Thread(target=count_order), threading.Thread(target=count_return)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(sorted(totals))
workdir.cleanup()
