"""Globals never rebound after import (constants, functions, classes) are read by every
thread: nothing to watch, no race."""
import threading

LIMIT = 3
NAMES = ("a", "b")


def describe(n):
    return f"{NAMES[n % 2]}{min(n, LIMIT)}"


out = []
lock = threading.Lock()


def work(n):
    text = describe(n)
    with lock:
        out.append(text)


threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(sorted(out))
