"""as_completed orders the caller after the end of each future it yields."""
from concurrent.futures import ThreadPoolExecutor, as_completed

sizes = {name: None for name in ("a.txt", "b.txt", "c.txt")}


def measure(name):
    sizes[name] = len(name) * 100


with ThreadPoolExecutor(max_workers=3) as pool:
    names = {pool.submit(measure, name): name for name in sizes}
    measured = {}
    for future in as_completed(names):
        name = names[future]
        measured[name] = sizes[name]
print(sorted(measured.items()))
