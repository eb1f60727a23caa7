"""The same registry, but the two jobs spell the key differently: two keys are two locks,
and a key's death orders only the lookups of that key.

PATTERN: inconsistent-locking
"""
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
        with self._mutex:
            if name in self._values:
                return self._values[name]
            self._values[name] = value = self.creator(name)
            return value


registry = NameRegistry(Mutex)
report = {"status": "new"}


def draft():
    with registry.get("report:42").lock:
        report["status"] = "draft"  # RACE


def publish():
    with registry.get("report-42").lock:
        report["status"] = "final"  # RACE


first = threading.Thread(target=draft)
first.start()
time.sleep(0.2)
second = threading.Thread(target=publish)
second.start()
first.join()
second.join()
print(sorted(report))
