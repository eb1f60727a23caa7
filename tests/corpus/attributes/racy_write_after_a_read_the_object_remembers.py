"""A thread reads an attribute, goes round 3,000 other objects (more than its own table of
attributes seen holds, so that it forgets the first read), then reads the attribute again
and writes it; another thread reads it later, with nothing ordering it after the write.
The second read is found in the object's memory of the thread's epoch, as a read: the
write after it is checked, not taken for a write the thread made already.

PATTERN: unsynchronized-handoff
"""
import threading
import time


class Cell:
    def __init__(self, n):
        self.value = n


box = Cell(1)
others = [Cell(n) for n in range(3000)]


def writer():
    total = box.value
    for other in others:
        total += other.value
    box.value += total  # RACE


def reader():
    time.sleep(0.2)
    print("read", box.value > 0)  # RACE


threads = [threading.Thread(target=writer), threading.Thread(target=reader)]
for t in threads:
    t.start()
for t in threads:
    t.join()
