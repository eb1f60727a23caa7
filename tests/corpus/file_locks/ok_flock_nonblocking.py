"""Polling with LOCK_NB until the lock is free, as filelock 3 does: failed attempts take
nothing, the one that succeeds is ordered after the holder's unlock."""
import fcntl
import os
import tempfile
import threading
import time

workdir = tempfile.TemporaryDirectory()
lock_path = os.path.join(workdir.name, "poll.lock")
counts = {"done": 0}


def acquire():
    while True:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            time.sleep(0.001)
        else:
            return fd


def work():
    for _ in range(20):
        fd = acquire()
        counts["done"] += 1
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


threads = [threading.Thread(target=work) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(counts["done"])
workdir.cleanup()
