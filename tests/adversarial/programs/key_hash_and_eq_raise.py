"""Keys whose ``__hash__`` or ``__eq__`` raise: the program sees its own exceptions, the
same ones, from the same lines, in every thread."""
# races: 0
import threading


class BadHash:
    def __hash__(self):
        raise ValueError("no hash")


class BadEq:
    def __hash__(self):
        return 7

    def __eq__(self, other):
        raise LookupError("no eq")


lock = threading.Lock()
d = {BadEq(): "present"}
seen = []


def work():
    for attempt in (lambda: d[BadHash()], lambda: d.get(BadHash()),
                    lambda: d.setdefault(BadHash(), 1), lambda: BadHash() in d,
                    lambda: d[BadEq()], lambda: d.pop(BadEq()), lambda: BadEq() in d):
        try:
            with lock:
                attempt()
        except Exception as exc:
            with lock:
                seen.append(f"{type(exc).__name__}: {exc}")


threads = [threading.Thread(target=work) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(sorted(seen))
print(len(d))
