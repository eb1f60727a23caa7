"""The same hand-off through os.pipe without annotations: the pipe is invisible to racewatch.

PATTERN: unsynchronized-handoff
"""
import os
import threading

jobs = {"next": None}
read_end, write_end = os.pipe()


def submit():
    jobs["next"] = "rebuild-index"  # RACE
    os.write(write_end, b"!")


t = threading.Thread(target=submit)
t.start()
os.read(read_end, 1)
print(jobs["next"])  # RACE
t.join()
os.close(read_end)
os.close(write_end)
