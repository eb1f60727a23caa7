"""A value of the object's own that hides a method of its class is the object's attribute:
a thread that installs a callback on one object races with a thread that calls it.

PATTERN: unsynchronized-handoff
"""
import threading
import time


class Job:
    def on_done(self):
        return "default"


job = Job()


def install():
    job.on_done = lambda: "custom"  # RACE


def finish(out):
    time.sleep(0.2)  # after the install, and nothing orders the two
    out.append(job.on_done())  # RACE


out = []
threads = [threading.Thread(target=install), threading.Thread(target=finish, args=(out,))]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(out)
