"""setdefault in one thread, pop of the same key in another.

PATTERN: unordered-accesses
"""
import threading

pending = {}


def add():
    pending.setdefault("job", []).append(1)  # RACE


def take(out):
    out.append(pending.pop("job", None) is None or True)  # RACE


out = []
threads = [threading.Thread(target=add), threading.Thread(target=take, args=(out,))]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(out)
