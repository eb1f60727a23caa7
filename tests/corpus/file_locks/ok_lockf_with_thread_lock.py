"""lockf for the other processes, a threading.Lock for the threads of this one: what
fasteners' documentation asks of its InterProcessLock, and what oslo.concurrency does."""
import fcntl
import os
import tempfile
import threading

workdir = tempfile.TemporaryDirectory()
lock_path = os.path.join(workdir.name, "ledger.lock")
in_process = threading.Lock()
ledger = {"balance": 0}


def deposit(amount):
    with in_process, open(lock_path, "a") as f:
        fcntl.lockf(f, fcntl.LOCK_EX)
        ledger["balance"] += amount
        fcntl.lockf(f, fcntl.LOCK_UN)


threads = [threading.Thread(target=deposit, args=(n,)) for n in (10, 20)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(ledger["balance"])
workdir.cleanup()
