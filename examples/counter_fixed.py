"""The page-hit counter, fixed: the read-modify-write happens under one lock.

    racewatch run examples/counter_fixed.py
"""

import threading

hits = {"/": 0, "/about": 0}
hits_lock = threading.Lock()


def handle(requests):
    for page in requests:
        with hits_lock:
            hits[page] += 1


workers = [threading.Thread(target=handle, args=(["/", "/about", "/"],), name=f"handler-{i}")
           for i in range(4)]
for w in workers:
    w.start()
for w in workers:
    w.join()
print("hits:", hits)
