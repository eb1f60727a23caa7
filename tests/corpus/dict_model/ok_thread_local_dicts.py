"""Each thread builds and mutates its own dicts: nothing is shared."""
import threading

results = [None] * 4


def work(n):
    mine = {}
    for i in range(100):
        mine[i % 7] = mine.get(i % 7, 0) + n
    nested = {"inner": {}}
    nested["inner"]["x"] = n
    results[n] = (sum(mine.values()), nested["inner"]["x"])


threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(results)
