"""`set(s)`, a snapshot of a set, taken while another thread adds to it with |=.

PATTERN: iteration-while-changing
"""
import threading

blocked = {"10.0.0.1"}
started = threading.Barrier(2)


def snapshot(out):
    started.wait()
    out.append(set(blocked))  # RACE


def block_more():
    global blocked
    started.wait()
    blocked |= {"10.0.0.2", "10.0.0.3"}  # RACE


out = []
threads = [threading.Thread(target=snapshot, args=(out,)), threading.Thread(target=block_more)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(len(out), sorted(blocked))
