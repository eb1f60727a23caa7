"""Polling the length of a list that workers append to: the length is read while another
thread changes it (time.sleep is not synchronization).

PATTERN: unsynchronized-handoff
"""
import threading
import time

results = []


def work(n):
    results.append(n)  # RACE


threads = [threading.Thread(target=work, args=(n,)) for n in range(2)]
for t in threads:
    t.start()
while len(results) < 2:  # RACE
    time.sleep(0.001)
for t in threads:
    t.join()
print(sorted(results))
