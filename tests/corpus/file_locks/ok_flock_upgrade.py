"""A reader that upgrades its shared flock to an exclusive one before it writes: the
conversion is an unlock and a new lock, so the writer after it is ordered, and so is it
after the writer."""
import fcntl
import os
import tempfile
import threading

workdir = tempfile.TemporaryDirectory()
lock_path = os.path.join(workdir.name, "tokens.lock")
tokens = {"count": 0}


def upgrader():
    for _ in range(10):
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT)
        fcntl.flock(fd, fcntl.LOCK_SH)
        current = tokens["count"]
        fcntl.flock(fd, fcntl.LOCK_EX)
        tokens["count"] = max(current, tokens["count"]) + 1
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def writer():
    for _ in range(10):
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT)
        fcntl.flock(fd, fcntl.LOCK_EX)
        tokens["count"] += 1
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


threads = [threading.Thread(target=upgrader), threading.Thread(target=writer)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(tokens["count"] > 0)
workdir.cleanup()
