"""The plugin registry, fixed: every plugin is loaded (and joined) before the application
reads the registry; later registrations go through a lock.

    racewatch run examples/registry_fixed.py
"""

import threading
from collections import defaultdict

handlers = defaultdict(list)
handlers_lock = threading.Lock()


def register(event, fn):
    with handlers_lock:
        handlers[event].append(fn)


def load_plugin(name):
    register("startup", lambda: f"{name} started")
    register(f"{name}.ready", lambda: None)


def describe():
    with handlers_lock:
        return {event: len(fns) for event, fns in handlers.items()}


loaders = [threading.Thread(target=load_plugin, args=(name,)) for name in ("auth", "billing")]
for t in loaders:
    t.start()
for t in loaders:
    t.join()
summary = describe()
print("startup handlers:", summary["startup"])
