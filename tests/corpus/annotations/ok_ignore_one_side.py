"""Accesses inside ignore() are not recorded: the unignored side has nothing to race with."""
import threading

import racewatch

debug = {"last_request": None}


def handle(path):
    with racewatch.ignore():
        debug["last_request"] = path


t = threading.Thread(target=handle, args=("/index",))
t.start()
print(debug["last_request"] in (None, "/index"))
t.join()
