"""Closing the descriptor releases its flock: os.close is the unlock."""
import fcntl
import os
import tempfile
import threading

workdir = tempfile.TemporaryDirectory()
lock_path = os.path.join(workdir.name, "jobs.lock")
jobs = {"pending": 0}


def work():
    for _ in range(20):
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT)
        fcntl.flock(fd, fcntl.LOCK_EX)
        jobs["pending"] += 1
        os.close(fd)


threads = [threading.Thread(target=work) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(jobs["pending"])
workdir.cleanup()
