"""Testing element x while another thread adds element y, and reading a set that nobody
changes any more: not races.  `x in s` reads x only."""
import threading

allowed = {"read"}
allowed.add("list")
started = threading.Barrier(2)


def grant():
    started.wait()
    allowed.add("write")


def check(out):
    started.wait()
    out.append("read" in allowed)


out = []
threads = [threading.Thread(target=grant), threading.Thread(target=check, args=(out,))]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(out, sorted(allowed), allowed == {"read", "list", "write"})
