"""`x in s` reads element x: it races with another thread removing that element.

PATTERN: unordered-accesses
"""
import threading

leases = {"db", "cache"}
started = threading.Barrier(2)


def release():
    started.wait()
    leases.discard("db")  # RACE


def check(out):
    started.wait()
    out.append("db" in leases)  # RACE


out = []
threads = [threading.Thread(target=release), threading.Thread(target=check, args=(out,))]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(len(out), sorted(leases))
