"""A list shared under a lock: every access ordered by it."""
import threading

lock = threading.Lock()
items = []


def work(n):
    with lock:
        if n not in items:
            items.append(n)
        items.sort()
        total = sum(items)
    return total


threads = [threading.Thread(target=work, args=(n % 2,)) for n in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(items)
