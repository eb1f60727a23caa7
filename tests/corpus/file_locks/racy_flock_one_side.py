"""One thread updates under an exclusive flock, the other forgets to take it."""
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
