"""Iterating a dict while another thread inserts into it.

PATTERN: iteration-while-changing
"""
import threading

registry = {"a": 1, "b": 2}
started = threading.Barrier(2)


def reader(out):
    started.wait()
    out.append(sum(1 for _ in registry))  # RACE


def writer():
    started.wait()
    registry["c"] = 3  # RACE


out = []
threads = [threading.Thread(target=reader, args=(out,)), threading.Thread(target=writer)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(len(out))
