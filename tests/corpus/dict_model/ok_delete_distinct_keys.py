"""Two workers each remove their own entry from a shared registry: deletes of different
keys commute, like inserts (the registry's keys are read only after the joins)."""
import threading

registry = {"worker-0": "idle", "worker-1": "idle", "manager": "up"}


def retire(n):
    registry.pop(f"worker-{n}")


threads = [threading.Thread(target=retire, args=(n,)) for n in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(sorted(registry))
