"""Settings that request handlers read under a lock, and a reload that forgets to take it.

Every handler takes ``settings_lock`` to read the timeout; ``reload()``, added later,
writes it without the lock.  One missing lock, three races: racewatch reports each pair
of lines, names each an inconsistent locking, and groups the three into one problem,
whose fix is one line in ``reload()``.

    racewatch run examples/settings_racy.py
"""

import threading
import time

settings_lock = threading.Lock()
settings = {"timeout": 1.0, "retries": 3}


def reload():
    settings["timeout"] = 2.5


def handle_request():
    with settings_lock:
        return settings["timeout"] * 2


def handle_upload():
    with settings_lock:
        return settings["timeout"] + 1


def health_check():
    with settings_lock:
        return settings["timeout"] > 0


reloader = threading.Thread(target=reload, name="reloader")
reloader.start()
time.sleep(0.2)  # the handlers start later: sleeping is not synchronization
handlers = [threading.Thread(target=f, name=f.__name__)
            for f in (handle_request, handle_upload, health_check)]
for t in handlers:
    t.start()
for t in (reloader, *handlers):
    t.join()
print("timeout:", settings["timeout"])
