"""Each thread builds its own sets (displays, comprehensions, set(), algebra): not shared."""
import threading

out = [None, None]


def work(n):
    evens = {x for x in range(10) if x % 2 == 0}
    mine = set(range(n, n + 5)) & evens
    mine -= {n}
    mine.update([100 + n])
    out[n] = sorted(mine | {-1})


threads = [threading.Thread(target=work, args=(n,)) for n in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(out)
