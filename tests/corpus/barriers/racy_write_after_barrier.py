"""A party writes after the barrier, another reads after it: both are after, neither first.

PATTERN: unsynchronized-handoff
"""
import threading

barrier = threading.Barrier(2)
board = {"leader": None}


def elect():
    barrier.wait()
    board["leader"] = "node-1"  # RACE


def follow():
    barrier.wait()
    print(board["leader"] in (None, "node-1"))  # RACE


threads = [threading.Thread(target=elect), threading.Thread(target=follow)]
for t in threads:
    t.start()
for t in threads:
    t.join()
