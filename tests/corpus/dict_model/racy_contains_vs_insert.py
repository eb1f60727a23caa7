"""`k in d` for a key that is missing races with another thread's insert of it.

PATTERN: unsynchronized-handoff
"""
import threading

seen = {}


def mark():
    seen["x"] = True  # RACE


def check(out):
    out.append("x" in seen or True)  # RACE


out = []
threads = [threading.Thread(target=mark), threading.Thread(target=check, args=(out,))]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(out)
