"""A failed LOCK_NB attempt orders nothing: the reader goes on without the lock, and is
not ordered after the writer, whose unlock it never waited for.

The pipes only pace the threads (racewatch sees no edge through a pipe): the writer is
done before the holder takes the lock, and the holder has it while the reader tries.
The reader reads what the writer wrote with nothing to hand it over: a hand-off (the flock
is not among the locks an access records as held).

PATTERN: unsynchronized-handoff
"""
import fcntl
import os
import tempfile
import threading

workdir = tempfile.TemporaryDirectory()
lock_path = os.path.join(workdir.name, "index.lock")
index = {"version": 0}
written_r, written_w = os.pipe()
holding_r, holding_w = os.pipe()
tried_r, tried_w = os.pipe()


def writer():
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    index["version"] = 1  # RACE
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)
    os.write(written_w, b"!")


def holder():
    os.read(written_r, 1)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    os.write(holding_w, b"!")
    os.read(tried_r, 1)
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)


def reader():
    os.read(holding_r, 1)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print("busy")
    index.get("version")  # RACE
    os.write(tried_w, b"!")
    os.close(fd)


threads = [threading.Thread(target=f) for f in (writer, holder, reader)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(sorted(index))
for fd in (written_r, written_w, holding_r, holding_w, tried_r, tried_w):
    os.close(fd)
workdir.cleanup()
