"""Two threads count under an exclusive flock of one lock file, each through its own
descriptor, and unlock before they close it (as filelock and dogpile.cache do)."""
import fcntl
import os
import tempfile
import threading

workdir = tempfile.TemporaryDirectory()
lock_path = os.path.join(workdir.name, "counter.lock")
counts = {"done": 0}


def work():
    for _ in range(20):
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT)
        fcntl.flock(fd, fcntl.LOCK_EX)
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
