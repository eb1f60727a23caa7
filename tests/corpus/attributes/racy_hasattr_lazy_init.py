"""``hasattr`` before creating the attribute: the failed read races with the write.

PATTERN: lazy-initialization
"""
import threading


class Cache:
    def table(self):
        if not hasattr(self, "_table"):  # RACE
            self._table = {}  # RACE
        return self._table


cache = Cache()
threads = [threading.Thread(target=cache.table) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(hasattr(cache, "_table"))
