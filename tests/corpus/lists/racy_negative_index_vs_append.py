"""`log[-1]` depends on the length: it races with an append from another thread.

PATTERN: unordered-accesses
"""
import threading

log = ["boot"]
started = threading.Barrier(2)


def writer():
    started.wait()
    log.append("ready")  # RACE


def reader(out):
    started.wait()
    out.append(log[-1])  # RACE


out = []
threads = [threading.Thread(target=writer), threading.Thread(target=reader, args=(out,))]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(len(out))
