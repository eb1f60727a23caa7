"""A page-hit counter shared by request-handling threads.

`hits[page] += 1` reads and then writes: two threads can read the same old value and one
increment is lost.  The GIL makes it rare; free-threaded Python makes it common.
racewatch reports it from any run, lost update or not.

    racewatch run examples/counter_racy.py
"""

import threading

hits = {"/": 0, "/about": 0}


def handle(requests):
    for page in requests:
        hits[page] += 1


workers = [threading.Thread(target=handle, args=(["/", "/about", "/"],), name=f"handler-{i}")
           for i in range(4)]
for w in workers:
    w.start()
for w in workers:
    w.join()
print("pages:", sorted(hits))
