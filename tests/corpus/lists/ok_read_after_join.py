"""Reading, sorting and clearing a list after joining the threads that filled it."""
import threading

collected = []


def work(n):
    collected.extend([n, n * 10])
    collected.append(-n)


threads = [threading.Thread(target=work, args=(n,)) for n in range(1, 4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
collected.sort()
print(collected, collected[-1], len(collected))
collected.clear()
