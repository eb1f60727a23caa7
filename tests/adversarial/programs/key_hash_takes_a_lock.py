"""A key's ``__hash__`` takes a lock that another thread holds while it writes the dict.

Plain python hashes outside any lock of its own; so must racewatch.
"""
# races: 0
# timeout: 10
# slow: yes
import threading

L = threading.Lock()


class Locked:
    def __hash__(self):
        with L:
            return 1

    def __eq__(self, other):
        return self is other


d = {"b": 0}
key = Locked()


def hasher():
    for _ in range(20000):
        with L:
            pass
        d.get(key)


def writer():
    for i in range(20000):
        with L:
            d["b"] = i


threads = [threading.Thread(target=hasher), threading.Thread(target=writer)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(d["b"])
