"""A plugin registry: plugins register from their own threads while the application
lists what is registered.  The application gives them a moment to load first, and that
is the bug: time.sleep is not synchronization.  On a slow day a plugin is still
registering while the application iterates, and the iteration raises "dictionary changed
size during iteration".  racewatch reports it on every run, the lucky ones included.

    racewatch run examples/registry_racy.py
"""

import threading
import time
from collections import defaultdict

handlers = defaultdict(list)


def register(event, fn):
    handlers[event].append(fn)


def load_plugin(name):
    register("startup", lambda: f"{name} started")
    register(f"{name}.ready", lambda: None)


def describe():
    return {event: len(fns) for event, fns in handlers.items()}


loaders = [threading.Thread(target=load_plugin, args=(name,)) for name in ("auth", "billing")]
for t in loaders:
    t.start()
time.sleep(0.5)  # the plugins load in a few milliseconds
summary = describe()
for t in loaders:
    t.join()
print("startup handlers:", len(handlers["startup"]))
