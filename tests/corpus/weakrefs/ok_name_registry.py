"""A registry of per-key locks held weakly, shaped like dogpile.cache's NameRegistry: the
second job finds the first job's lock gone (it died when the first job let go of it) and
makes a new one.  Nothing but the registry orders the two jobs, and it does: the new lock
exists only once the old one, and its holder's section, are over.

The sleep only makes this run take that path (it is not synchronization); had the second
job come early, the two would have shared one lock."""
import threading
import time
import weakref


class Mutex:
    def __init__(self, name):
        self.name = name
        self.lock = threading.Lock()


class NameRegistry:
    def __init__(self, creator):
        self._values = weakref.WeakValueDictionary()
        self._mutex = threading.RLock()
        self.creator = creator

    def get(self, name):
        try:
            if name in self._values:
                return self._values[name]
            return self._sync_get(name)
        except KeyError:
            return self._sync_get(name)

    def _sync_get(self, name):
        with self._mutex:
            if name in self._values:
                return self._values[name]
            self._values[name] = value = self.creator(name)
            return value


registry = NameRegistry(Mutex)
report = {"status": "new"}


def run_job(status):
    mutex = registry.get("report:42")
    with mutex.lock:
        report["status"] = status


first = threading.Thread(target=run_job, args=("draft",))
first.start()
time.sleep(0.2)
second = threading.Thread(target=run_job, args=("final",))
second.start()
first.join()
second.join()
print(report["status"])
