"""Single-threaded, dict-heavy: build an inverted index and a word graph, then query them.

About 1.5 million dict accesses (inserts, lookups, defaultdict misses, iteration).
"""

import random
from collections import defaultdict

rng = random.Random(42)
VOCABULARY = [f"w{i}" for i in range(5000)]
DOCUMENTS = [[rng.choice(VOCABULARY) for _ in range(40)] for _ in range(6000)]

index = defaultdict(list)
counts = {}
follows = defaultdict(dict)
for doc_id, words in enumerate(DOCUMENTS):
    previous = None
    for word in words:
        index[word].append(doc_id)
        counts[word] = counts.get(word, 0) + 1
        if previous is not None:
            edges = follows[previous]
            edges[word] = edges.get(word, 0) + 1
        previous = word

hits = 0
for _ in range(50_000):
    word = rng.choice(VOCABULARY)
    if word in counts:
        hits += counts[word]
    hits += len(follows.get(word, {}))
top = sorted(counts.items(), key=lambda kv: -kv[1])[:3]
print(len(index), hits, top[0][1] > 0)
