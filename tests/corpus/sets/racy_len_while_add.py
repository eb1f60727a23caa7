"""The size of a set read while another thread adds to it.

PATTERN: unsynchronized-handoff
"""
import threading

online = {"alice"}
started = threading.Barrier(2)


def join_user():
    started.wait()
    online.add("bob")  # RACE


def count(out):
    started.wait()
    out.append(len(online))  # RACE


out = []
threads = [threading.Thread(target=join_user), threading.Thread(target=count, args=(out,))]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(len(out), sorted(online))
