"""Lazy initialization under a lock: the check and the act are one step."""
import threading


class Client:
    def __init__(self):
        self._conn = None
        self._lock = threading.Lock()

    def conn(self):
        with self._lock:
            if self._conn is None:
                self._conn = object()
            return self._conn


client = Client()
got = []
threads = [threading.Thread(target=lambda: got.append(client.conn())) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(len(got), got[0] is got[1])
