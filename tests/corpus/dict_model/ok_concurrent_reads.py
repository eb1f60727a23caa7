"""Many threads only read a dict built before they started."""
import threading

table = {f"k{i}": i for i in range(100)}


def read(out):
    total = 0
    for key in table:
        total += table[key]
    out.append((total, len(table), "k5" in table, table.get("missing")))


out = []
threads = [threading.Thread(target=read, args=(out,)) for _ in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(out)
