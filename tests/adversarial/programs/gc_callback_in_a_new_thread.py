"""A gc.callbacks hook reads a dict in a thread that has just started, before its target.

The garbage collector runs in whichever thread allocates, so the hook can run in a new
thread before any of the thread's own code, even before threading has finished starting
it.  The main thread wrote the dict before starting the thread: the read is ordered
after the write, and no race may be reported.
"""
# races: 0
import _thread
import gc
import threading

main = _thread.get_ident()
d = {}
reads = []


def hook(phase, info):
    if _thread.get_ident() != main and not reads:
        reads.append(d["x"])


idle = threading.Event()
bystander = threading.Thread(target=idle.wait)  # two threads alive: every access counts
bystander.start()
d["x"] = 1
gc.callbacks.append(hook)
gc.set_threshold(1)
worker = threading.Thread(target=lambda: None)
worker.start()
worker.join()
gc.set_threshold(700)
gc.callbacks.remove(hook)
idle.set()
bystander.join()
print("the new thread read", reads)
