"""Check-then-act lazy initialization of an attribute: both threads can see None and both
connect (and one connection is lost).

PATTERN: lazy-initialization
"""
import threading


class Client:
    def __init__(self):
        self._conn = None

    def conn(self):
        if self._conn is None:  # RACE
            self._conn = object()  # RACE
        return self._conn


client = Client()
got = []
threads = [threading.Thread(target=lambda: got.append(client.conn())) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(len(got))
