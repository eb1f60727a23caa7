"""len() while another thread deletes a key: the set of keys is one location.

PATTERN: unordered-accesses
"""
import threading

sessions = {"s1": 1, "s2": 2, "s3": 3}


def expire():
    del sessions["s2"]  # RACE


def count(out):
    out.append(len(sessions) > 0)  # RACE


out = []
threads = [threading.Thread(target=expire), threading.Thread(target=count, args=(out,))]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(out)
