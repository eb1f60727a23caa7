"""Finalizers make and write dicts while the main thread does the same.

The garbage collector runs in the middle of whatever allocates, racewatch's bookkeeping
for a new dict included; a ``__del__`` that writes a new dict then needs that same
bookkeeping.
"""
# races: 0
# timeout: 10
# slow: yes
import gc
import threading

finalized = []


class Garbage:
    def __init__(self):
        self.me = self  # a cycle: only the garbage collector frees it

    def __del__(self):
        fresh = {}
        fresh["from __del__"] = len(finalized)
        finalized.append(fresh)


idle = threading.Event()
bystander = threading.Thread(target=idle.wait, daemon=True)  # every access counts
bystander.start()
gc.set_threshold(1)
for made in range(3000):
    mine = {}
    Garbage()  # garbage from here on: the next allocation may collect it
    mine["from main"] = made
gc.set_threshold(700)
gc.collect()
idle.set()
bystander.join()
print("finalized all:", len(finalized) == 3000)
