"""How often dict operations call a key's ``__eq__``, threads running, with keys that are
equal but not the same object (plain python compares them once per operation)."""
# races: 0
import threading

compared = []


class Key:
    def __init__(self, name):
        self.name = name

    def __hash__(self):
        return hash(self.name)

    def __eq__(self, other):
        compared.append(self.name)
        return isinstance(other, Key) and other.name == self.name


def count(label, operation):
    compared.clear()
    operation()
    print(label, len(compared), "eq")


idle = threading.Event()
bystander = threading.Thread(target=idle.wait)  # two threads alive: every access counts
bystander.start()
a, a2, b = Key("a"), Key("a"), Key("b")
d = {}
count("insert", lambda: d.__setitem__(a, 1))
count("overwrite with an equal key", lambda: d.__setitem__(a2, 2))
count("getitem", lambda: d[a])
count("contains", lambda: a2 in d)
count("delitem", lambda: d.__delitem__(a2))
idle.set()
bystander.join()
