"""How often dict operations call a key's ``__hash__``, threads running.

A program may count, log or pay for these calls; plain python hashes a key once per
operation, and so does racewatch: its own lookups use the hash the operation computed.
"""
# races: 0
import threading
from collections import defaultdict

hashes = []


class Key:
    def __init__(self, name):
        self.name = name

    def __hash__(self):
        hashes.append(self.name)
        return hash(self.name)

    def __eq__(self, other):
        return isinstance(other, Key) and other.name == self.name


def getitem_missing():
    try:
        d[c]
    except KeyError:
        pass


def count(label, operation):
    hashes.clear()
    operation()
    print(label, len(hashes), "hash")


idle = threading.Event()
bystander = threading.Thread(target=idle.wait)  # two threads alive: every access counts
bystander.start()
a, a2, b, c = Key("a"), Key("a"), Key("b"), Key("c")
d = {}
count("insert", lambda: d.__setitem__(a, 1))
count("overwrite with an equal key", lambda: d.__setitem__(a2, 2))
count("getitem", lambda: d[a])
count("getitem missing", getitem_missing)
count("get", lambda: d.get(a))
count("get missing", lambda: d.get(b))
count("contains", lambda: a2 in d)
count("setdefault present", lambda: d.setdefault(a, 0))
count("setdefault absent", lambda: d.setdefault(b, 0))
count("pop", lambda: d.pop(b))
count("pop missing with a default", lambda: d.pop(b, None))
count("delitem", lambda: d.__delitem__(a2))
dd = defaultdict(list)
count("defaultdict insert", lambda: dd[a].append(1))
count("defaultdict getitem", lambda: dd[a].append(2))
count("defaultdict getitem of an equal key", lambda: dd[a2].append(3))
idle.set()
bystander.join()
print(dict(d), len(dd[a]))
