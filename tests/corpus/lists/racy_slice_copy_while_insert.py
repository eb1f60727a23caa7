"""Copying a list with a slice while another thread inserts at its head.

PATTERN: iteration-while-changing
"""
import threading

history = ["a", "b", "c"]
started = threading.Barrier(2)


def snapshot(out):
    started.wait()
    out.append(history[:])  # RACE


def record():
    started.wait()
    history.insert(0, "z")  # RACE


out = []
threads = [threading.Thread(target=snapshot, args=(out,)), threading.Thread(target=record)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(len(out), sorted(history))
