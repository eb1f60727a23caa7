"""A plugin registry: plugins register from their own threads while the application
lists what is registered.  Iterating a dict while another thread inserts raises
"dictionary changed size during iteration" on a bad day.

    racewatch run examples/registry_racy.py
"""

import threading
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
summary = describe()
for t in loaders:
    t.join()
print("startup handlers:", len(handlers["startup"]))
