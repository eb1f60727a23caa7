"""A str and an int key that share their hash with a key whose ``__eq__`` raises: every
lookup of them, in the program's dict and in racewatch's table of its locations, compares
them with that key first.  The program sees its own exceptions, from the same operations,
in every thread, and what works still works."""
# races: 0
import threading
from collections import Counter


class Collides:
    def __init__(self, twin):
        self.twin = twin

    def __hash__(self):
        return hash(self.twin)

    def __eq__(self, other):
        if other is self:
            return True
        raise LookupError(f"no eq with {other!r}")


lock = threading.Lock()
d = {Collides("a"): "str's twin", Collides(7): "int's twin", "b": 0}
seen = []


def work():
    for attempt in (lambda: d["a"], lambda: "a" in d, lambda: d.get("a"),
                    lambda: d.__setitem__("a", 1), lambda: d[7], lambda: 7 in d,
                    lambda: d.__setitem__(7, 1), lambda: d.setdefault("a", 2)):
        for _ in range(3):   # the first access of the epoch, and the ones after it
            try:
                with lock:
                    d["b"] += 1   # what works: a str key of its own
                    attempt()
                    seen.append("no error")
            except Exception as exc:
                with lock:
                    seen.append(f"{type(exc).__name__}: {exc}")


threads = [threading.Thread(target=work) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(sorted(Counter(seen).items()))
print(len(d), d["b"])
