"""A list used as a queue: one thread peeks at the head while another pops it.

PATTERN: unordered-accesses
"""
import threading

pending = ["job-1", "job-2", "job-3"]
started = threading.Barrier(2)


def consumer(done):
    started.wait()
    done.append(pending.pop(0))  # RACE


def monitor(seen):
    started.wait()
    seen.append(pending[0])  # RACE


done, seen = [], []
threads = [threading.Thread(target=consumer, args=(done,)),
           threading.Thread(target=monitor, args=(seen,))]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(done, len(seen))
