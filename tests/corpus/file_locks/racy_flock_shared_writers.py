"""Two threads write under a *shared* flock: shared holders do not exclude, or order, each
other.

PATTERN: unordered-accesses
"""
import fcntl
import os
import tempfile
import threading

workdir = tempfile.TemporaryDirectory()
lock_path = os.path.join(workdir.name, "stats.lock")
stats = {"last": None}


def record(name):
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_SH)
    stats["last"] = name  # RACE
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)


threads = [threading.Thread(target=record, args=(name,)) for name in ("a", "b")]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(sorted(stats))
workdir.cleanup()
