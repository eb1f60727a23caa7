"""A thread reads an attribute of each of 300 objects, more than it remembers in its own
table of attributes seen, then goes round them again and writes it; another thread reads
one of them later, with nothing ordering it after the writes.  Each object remembers that
the writer only read the attribute in its first round: the write is checked, not taken
for an access seen already.

PATTERN: unsynchronized-handoff
"""
import threading
import time


class Cell:
    def __init__(self, n):
        self.value = n


cells = [Cell(n) for n in range(300)]


def writer():
    total = 0
    for cell in cells:
        total += cell.value
    for cell in cells:
        cell.value = total  # RACE


def reader():
    time.sleep(0.2)
    print("read", cells[150].value >= 0)  # RACE


threads = [threading.Thread(target=writer), threading.Thread(target=reader)]
for t in threads:
    t.start()
for t in threads:
    t.join()
