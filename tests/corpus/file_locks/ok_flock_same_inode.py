"""A file is its device and inode: two names (a hard link) of one lock file are one lock."""
import fcntl
import os
import tempfile
import threading

workdir = tempfile.TemporaryDirectory()
lock_path = os.path.join(workdir.name, "queue.lock")
alias_path = os.path.join(workdir.name, "queue-alias.lock")
open(lock_path, "w").close()
os.link(lock_path, alias_path)
queue = {"size": 0}


def work(path):
    for _ in range(20):
        fd = os.open(path, os.O_RDWR)
        fcntl.flock(fd, fcntl.LOCK_EX)
        queue["size"] += 1
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


threads = [threading.Thread(target=work, args=(p,)) for p in (lock_path, alias_path)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(queue["size"])
workdir.cleanup()
