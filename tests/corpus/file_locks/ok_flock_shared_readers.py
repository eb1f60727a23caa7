"""Readers take a shared flock, the writer an exclusive one: whichever comes first, a
reader is ordered after the writer's unlock, or the writer after the readers' unlocks."""
import fcntl
import os
import tempfile
import threading

workdir = tempfile.TemporaryDirectory()
lock_path = os.path.join(workdir.name, "config.lock")
config = {"mode": "safe"}
seen = {0: None, 1: None, 2: None}


def locked(mode):
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, mode)
    return fd


def unlock(fd):
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)


def reader(n):
    fd = locked(fcntl.LOCK_SH)
    seen[n] = config["mode"]
    unlock(fd)


def writer():
    fd = locked(fcntl.LOCK_EX)
    config["mode"] = "fast"
    unlock(fd)


threads = [threading.Thread(target=reader, args=(n,)) for n in range(3)]
threads.insert(1, threading.Thread(target=writer))
for t in threads:
    t.start()
for t in threads:
    t.join()
print(config["mode"], sorted(v in ("safe", "fast") for v in seen.values()))
workdir.cleanup()
