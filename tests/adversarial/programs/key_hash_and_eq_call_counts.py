"""How often dict operations call a key's ``__hash__`` and ``__eq__``, threads running.

A program may count, log or pay for these calls; plain python hashes a key once per
operation (an ``__eq__`` only on a hash collision).
"""
# races: 0
import threading

calls = []


class Key:
    def __init__(self, name):
        self.name = name

    def __hash__(self):
        calls.append("hash")
        return hash(self.name)

    def __eq__(self, other):
        calls.append("eq")
        return isinstance(other, Key) and other.name == self.name


def count(label, operation):
    calls.clear()
    operation()
    print(label, calls.count("hash"), "hash,", calls.count("eq"), "eq")


idle = threading.Event()
bystander = threading.Thread(target=idle.wait)  # two threads alive: every access counts
bystander.start()
a, a2, b = Key("a"), Key("a"), Key("b")
d = {}
count("insert", lambda: d.__setitem__(a, 1))
count("overwrite with an equal key", lambda: d.__setitem__(a2, 2))
count("getitem", lambda: d[a])
count("get missing", lambda: d.get(b))
count("contains", lambda: a2 in d)
count("setdefault present", lambda: d.setdefault(a, 0))
count("setdefault absent", lambda: d.setdefault(b, 0))
count("pop", lambda: d.pop(b))
count("delitem", lambda: d.__delitem__(a2))
idle.set()
bystander.join()
