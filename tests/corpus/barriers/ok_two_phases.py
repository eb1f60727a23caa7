"""A barrier reused for two phases: reads of phase one finish before writes of phase two."""
import threading

barrier = threading.Barrier(2)
grid = {0: 1, 1: 2}
seen = {0: [], 1: []}


def step(n):
    for _ in range(2):
        neighbour = grid[1 - n]
        seen[n].append(neighbour)
        barrier.wait()
        grid[n] = grid[n] + neighbour
        barrier.wait()


threads = [threading.Thread(target=step, args=(n,)) for n in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(grid, seen)
