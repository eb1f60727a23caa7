"""fcntl.lockf takes a POSIX record lock, which belongs to the process: every thread of the
holding process gets it at once, so it orders no two threads.

PATTERN: lost-update
"""
import fcntl
import os
import tempfile
import threading

workdir = tempfile.TemporaryDirectory()
lock_path = os.path.join(workdir.name, "ledger.lock")
ledger = {"balance": 0}


def deposit(amount):
    with open(lock_path, "a") as f:
        fcntl.lockf(f, fcntl.LOCK_EX)
        ledger["balance"] += amount  # RACE
        fcntl.lockf(f, fcntl.LOCK_UN)


threads = [threading.Thread(target=deposit, args=(n,)) for n in (10, 20)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(sorted(ledger))
workdir.cleanup()
