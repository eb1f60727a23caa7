"""update() and |= where the tracked dict can be told apart from dict."""


def attempt(label, f):
    try:
        result = f()
    except Exception as exc:
        print(f"{label}: {type(exc).__name__}: {exc}")
    else:
        print(f"{label}: {result!r}")


# |= keeps the pairs before a bad element, as update() does.
d = {"a": 1}
try:
    d |= [("b", 2), ("c",)]
except ValueError as exc:
    print("ior short pair:", exc)
print("after ior short pair", d)

d = {"a": 1}
try:
    d |= [("b", 2), ([], 3)]
except TypeError as exc:
    print("ior unhashable:", exc)
print("after ior unhashable", d)

# A key called "self" is a keyword argument like any other.
s = {}
attempt("update(self=...)", lambda: s.update(self=1, other=2))
print("after update(self=...)", s)

# Each pair is inserted before the next one is produced.
g = {}
g.update((key, len(g)) for key in "abc")
print("update sees its own inserts", g)
h = {}
h |= ((key, sorted(h)) for key in "xyz")
print("ior sees its own inserts", h)
