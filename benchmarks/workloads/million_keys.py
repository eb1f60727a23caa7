"""Memory: a lookup table of 10^6 keys built by the main thread, then read through by
two worker threads (every key gets read state in both)."""

import threading

table = {}
for i in range(1_000_000):
    table[i] = i * 2


def scan(out):
    total = 0
    for i in range(0, 1_000_000):
        total += table[i]
    out.append(total)


out = []
workers = [threading.Thread(target=scan, args=(out,)) for _ in range(2)]
for w in workers:
    w.start()
for w in workers:
    w.join()
print(out[0] == out[1])
