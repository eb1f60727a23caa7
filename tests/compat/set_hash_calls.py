"""How often a set calls its elements' __hash__ and __eq__: as a plain set does."""


class Key:
    """An element whose hash and equality are counted: a set calls them as it did."""

    calls = 0

    def __init__(self, n):
        self.n = n

    def __hash__(self):
        Key.calls += 1
        return hash(self.n)

    def __eq__(self, other):
        Key.calls += 1
        return isinstance(other, Key) and other.n == self.n

    def __repr__(self):
        return f"Key({self.n})"


Key.calls = 0
keys = {Key(1), Key(2)}
keys.add(Key(1))
keys.discard(Key(3))
found = Key(2) in keys
keys |= {Key(4)}
keys -= {Key(1)}
keys.update([Key(2), Key(5)])
keys.intersection_update([Key(2), Key(5)])
print(found, sorted(k.n for k in keys), Key.calls)
print(sorted(k.n for k in {Key(1)} | {Key(1), Key(2)}), {Key(3)} == {Key(3)}, Key.calls)

