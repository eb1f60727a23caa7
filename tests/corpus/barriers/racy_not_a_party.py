"""A thread that never waits on the barrier is not ordered by it.

PATTERN: unsynchronized-handoff
"""
import threading

barrier = threading.Barrier(2)
status = {"ready": 0}


def party():
    status["ready"] += 1  # RACE
    barrier.wait()


def bystander():
    print(status["ready"] >= 0)  # RACE


threads = [threading.Thread(target=party), threading.Thread(target=bystander)]
for t in threads:
    t.start()
barrier.wait()
for t in threads:
    t.join()
