"""Racing on a key whose ``__repr__`` logs and mutates the dict it is a key of.

Plain python never calls the repr: the log stays empty and the dict keeps one key.
"""
# races: 1
import threading

log = []
d = {}


class Key:
    def __repr__(self):
        log.append("repr")
        d["added by repr"] = True
        return "Key()"

    def __hash__(self):
        return 1

    def __eq__(self, other):
        return self is other


key = Key()


def work(v):
    d[key] = v


threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(len(d), log)
