"""A thread pool fills shared result lists, then one thread processes them: list-heavy.

Four workers summarize 6,000 rows (a comprehension, a sort and a slice each), append what
they find to one list and store a count in their own position of a pre-sized one; the
main thread then merges, windows, searches and trims the results.  About 190,000 list
accesses and 26,000 lists made.
"""

import random
from concurrent.futures import ThreadPoolExecutor

rng = random.Random(3)
ROWS = [[rng.randrange(1000) for _ in range(24)] for _ in range(6000)]

results = []
counts = [None] * len(ROWS)


def summarize(i):
    row = ROWS[i]
    evens = [v for v in row if v % 2 == 0]
    top = sorted(row)[-3:]
    results.append((i, sum(evens), top))
    counts[i] = len(evens)


with ThreadPoolExecutor(max_workers=4) as pool:
    for _ in pool.map(summarize, range(len(ROWS))):
        pass

merged = []
for _, total, top in sorted(results):
    merged.extend(top)
    if total % 7 == 0:
        merged.append(total)
windows = [merged[i:i + 10] for i in range(0, len(merged), 10)]
seen = set(merged)
hits = sum(1 for w in windows if w and w[0] in seen)
recent = []
for value in merged:
    recent.append(value)
    if len(recent) > 50:
        recent.pop(0)
for i in range(len(merged)):
    merged[i] = merged[i] // 2
print(len(results), sum(counts), hits, len(recent), merged[-1] >= 0)
