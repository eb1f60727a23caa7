"""``pop`` of an unhashable key with a default, on an empty dict: plain python returns the
default without hashing (an empty dict has nothing to find)."""
# races: 0
import threading
from collections import defaultdict

idle = threading.Event()
bystander = threading.Thread(target=idle.wait)  # two threads alive: every access counts
bystander.start()
results = []
for d in ({}, defaultdict(list)):
    try:
        results.append(d.pop([], 0))
    except TypeError as exc:
        results.append(f"TypeError: {exc}")
idle.set()
bystander.join()
print(results)
