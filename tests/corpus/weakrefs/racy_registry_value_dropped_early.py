"""The registry's value is dropped before the section starts: only its lock is kept, so
the value dies at once, and the second job may make a new lock while the first one still
holds the old.  A death orders what came before it, not the section after it.

PATTERN: inconsistent-locking
"""
import threading
import time
import weakref


class Mutex:
    def __init__(self):
        self.lock = threading.Lock()


registry = weakref.WeakValueDictionary()
registry_guard = threading.Lock()
report = {"status": "new"}


def mutex_for(name):
    with registry_guard:
        mutex = registry.get(name)
        if mutex is None:
            mutex = registry[name] = Mutex()
        return mutex


def run_job(status):
    with mutex_for("report:42").lock:
        report["status"] = status  # RACE


first = threading.Thread(target=run_job, args=("draft",))
first.start()
time.sleep(0.2)
second = threading.Thread(target=run_job, args=("final",))
second.start()
first.join()
second.join()
print(report["status"])
