"""Each thread writes its own key, all of which existed before: no race (key-granular)."""
import threading

slots = {0: None, 1: None, 2: None, 3: None}


def work(n):
    for i in range(20):
        slots[n] = i


threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(slots)
