"""A ``__del__`` reads a dict in a thread that has just started, before its target.

A garbage collection runs its finalizers in whichever thread allocates, so they can run
in a new thread before any of the thread's own code.  (A gc callback makes the garbage
there, the collection it announces collects it.)  The main thread wrote the dict before
starting the thread: the read is ordered after the write, and no race may be reported.
"""
# races: 0
import _thread
import gc
import threading

main = _thread.get_ident()
d = {}
reads = []


class Garbage:
    def __init__(self):
        self.me = self  # a cycle: only the garbage collector frees it

    def __del__(self):
        if _thread.get_ident() != main:
            reads.append(d["x"])


def make_garbage(phase, info):
    if phase == "start" and _thread.get_ident() != main and not made:
        made.append(Garbage())
        made.clear()


made = []
idle = threading.Event()
bystander = threading.Thread(target=idle.wait)  # two threads alive: every access counts
bystander.start()
d["x"] = 1
gc.callbacks.append(make_garbage)
gc.set_threshold(1)
worker = threading.Thread(target=lambda: None)
worker.start()
worker.join()
gc.set_threshold(700)
gc.callbacks.remove(make_garbage)
idle.set()
bystander.join()
print("finalizers in the new thread read", reads[:1])
