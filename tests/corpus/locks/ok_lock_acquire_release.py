"""acquire()/release() called directly, and acquire with a timeout."""
import threading

lock = threading.Lock()
registry = {}


def register(name):
    if lock.acquire(timeout=5):
        try:
            if name not in registry:
                registry[name] = len(registry)
        finally:
            lock.release()


threads = [threading.Thread(target=register, args=(f"svc{n % 3}",)) for n in range(6)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(sorted(registry))
