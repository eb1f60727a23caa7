"""A hand-off through os.pipe, declared: writing to the pipe releases, reading acquires."""
import os
import threading

import racewatch

jobs = {"next": None}
read_end, write_end = os.pipe()


def submit():
    jobs["next"] = "rebuild-index"
    racewatch.release(jobs)
    os.write(write_end, b"!")


t = threading.Thread(target=submit)
t.start()
os.read(read_end, 1)
racewatch.acquire(jobs)
print(jobs["next"])
t.join()
os.close(read_end)
os.close(write_end)
