"""The settings of settings_racy.py, reloaded under the lock the handlers read them with.

    racewatch run examples/settings_fixed.py
"""

import threading
import time

settings_lock = threading.Lock()
settings = {"timeout": 1.0, "retries": 3}


def reload():
    with settings_lock:
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
time.sleep(0.2)
handlers = [threading.Thread(target=f, name=f.__name__)
            for f in (handle_request, handle_upload, health_check)]
for t in handlers:
    t.start()
for t in (reloader, *handlers):
    t.join()
print("timeout:", settings["timeout"])
