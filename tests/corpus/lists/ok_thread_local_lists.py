"""Each thread builds and changes its own lists (comprehensions, list(), sorted()): not
shared, not a race."""
import threading

out = [None, None]


def work(n):
    mine = [x * n for x in range(5)]
    mine.reverse()
    again = sorted(list(mine))
    again[0] = -1
    out[n] = again[:3]


threads = [threading.Thread(target=work, args=(n,)) for n in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(out)
