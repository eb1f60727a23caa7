"""BoundedSemaphore(1) with explicit acquire()/release() guards a registry like a lock."""
import threading

guard = threading.BoundedSemaphore(1)
registry = {}


def register(name):
    guard.acquire()
    try:
        registry.setdefault(name, len(registry))
    finally:
        guard.release()


threads = [threading.Thread(target=register, args=(f"svc{n % 2}",)) for n in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(sorted(registry))
