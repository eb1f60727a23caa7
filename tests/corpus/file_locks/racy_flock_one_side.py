"""One thread updates under an exclusive flock, the other forgets to take it.

A flock orders what it guards (its unlock is a release), but it is not one of the locks
an access records as held: the two writes are unordered accesses, not an inconsistent
locking, which racewatch says only of the thread locks it sees held.

PATTERN: unordered-accesses
"""
import fcntl
import os
import tempfile
import threading

workdir = tempfile.TemporaryDirectory()
lock_path = os.path.join(workdir.name, "cache.lock")
cache = {"user:1": None}


def careful():
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    cache["user:1"] = "alice"  # RACE
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)


def careless():
    cache["user:1"] = "bob"  # RACE


threads = [threading.Thread(target=careful), threading.Thread(target=careless)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(len(cache))
workdir.cleanup()
