"""Two workers update one counter; each is joined, but they are not ordered between them.

PATTERN: lost-update
"""
import threading

counts = {"hits": 0}


def work():
    for _ in range(3):
        counts["hits"] += 1  # RACE


threads = [threading.Thread(target=work) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(sorted(counts))
