"""Dicts made by dict(...) and by a comprehension are tracked like displays.

PATTERN: unsynchronized-handoff
"""
import threading

squares = {n: n * n for n in range(5)}
names = dict(alice=1, bob=2)


def work():
    squares[2] = -1  # RACE
    names["carol"] = 3


def look(out):
    out.append(squares[2] != 0)  # RACE


out = []
threads = [threading.Thread(target=work), threading.Thread(target=look, args=(out,))]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(out, sorted(names))
