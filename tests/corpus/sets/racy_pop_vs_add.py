"""Which element pop() takes depends on the members: it races with another thread's add.

PATTERN: unordered-accesses
"""
import threading

pool = {1, 2, 3}
started = threading.Barrier(2)


def take(out):
    started.wait()
    out.append(pool.pop())  # RACE


def give():
    started.wait()
    pool.add(4)  # RACE


out = []
threads = [threading.Thread(target=take, args=(out,)), threading.Thread(target=give)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(len(out), len(pool))
