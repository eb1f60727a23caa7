"""Iterating a list while another thread appends to it.

PATTERN: iteration-while-changing
"""
import threading

events = ["start"]
started = threading.Barrier(2)


def reader(out):
    started.wait()
    out.append(sum(1 for _ in events))  # RACE


def writer():
    started.wait()
    events.append("more")  # RACE


out = []
threads = [threading.Thread(target=reader, args=(out,)), threading.Thread(target=writer)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(len(out), len(events))
