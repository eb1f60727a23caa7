"""File objects passed to flock, unlocked before the with block closes them (portalocker's
and fasteners' order: unlock, then close)."""
import fcntl
import os
import tempfile
import threading

workdir = tempfile.TemporaryDirectory()
lock_path = os.path.join(workdir.name, "settings.lock")
settings = {"theme": "light", "changes": 0}


def toggle():
    for _ in range(10):
        with open(lock_path, "a") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            settings["theme"] = "dark" if settings["theme"] == "light" else "light"
            settings["changes"] += 1
            fcntl.flock(f, fcntl.LOCK_UN)


threads = [threading.Thread(target=toggle) for _ in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(settings["changes"])
workdir.cleanup()
