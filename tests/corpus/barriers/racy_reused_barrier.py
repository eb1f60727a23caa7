"""A barrier reused for a second phase: a write and a read after the same wait() still race.

PATTERN: unsynchronized-handoff
"""
import threading
import time

barrier = threading.Barrier(2)
board = {"leader": None}


def elect():
    barrier.wait()
    board["leader"] = "node-1"  # RACE
    barrier.wait()


def follow():
    time.sleep(0.01)  # not synchronization: follow usually arrives last and runs on ahead
    barrier.wait()
    print(board["leader"] in (None, "node-1"))  # RACE
    barrier.wait()


threads = [threading.Thread(target=elect), threading.Thread(target=follow)]
for t in threads:
    t.start()
for t in threads:
    t.join()
