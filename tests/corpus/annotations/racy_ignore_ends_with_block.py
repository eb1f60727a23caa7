"""ignore() covers only its block: the same thread's access after it is checked again.

PATTERN: unsynchronized-handoff
"""
import threading

import racewatch

debug = {"last_request": None}


def handle(path):
    with racewatch.ignore():
        debug["last_request"] = path
    debug["last_request"] = path.upper()  # RACE


t = threading.Thread(target=handle, args=("/index",))
t.start()
print(debug["last_request"] in (None, "/index", "/INDEX"))  # RACE
t.join()
