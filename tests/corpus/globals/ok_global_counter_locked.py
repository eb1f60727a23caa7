"""The same counter under a lock."""
import threading

total = 0
lock = threading.Lock()


def work():
    global total
    for _ in range(50):
        with lock:
            total += 1


threads = [threading.Thread(target=work) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(total)
