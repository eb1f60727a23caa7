"""A class with ``__slots__``: its slots are locations as attributes are.

PATTERN: lost-update
"""
import threading


class Point:
    __slots__ = ("x", "y")

    def __init__(self):
        self.x = 0
        self.y = 0


p = Point()


def move():
    for _ in range(20):
        p.x += 1  # RACE


threads = [threading.Thread(target=move) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(p.x <= 40, Point.__slots__)  # updates can be lost (free-threaded builds lose some)
