"""Iterating a set while another thread discards one of its elements.

PATTERN: iteration-while-changing
"""
import threading

active = {"a", "b", "c"}
started = threading.Barrier(2)


def report(out):
    started.wait()
    out.append(sorted(x for x in active))  # RACE


def expire():
    started.wait()
    active.discard("b")  # RACE


out = []
threads = [threading.Thread(target=report, args=(out,)), threading.Thread(target=expire)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(len(out), sorted(active))
