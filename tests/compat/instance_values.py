"""Reads and writes of an instance's own attributes, each repeated so that racewatch's
read and replacement of the object's values (3.11+; on 3.10 its read) has remembered
where the attribute is, then the class, the object or its dict changed under it: every
read gives what plain python gives, and every write lands where plain python puts it."""

import threading

done = threading.Event()
alive = threading.Thread(target=done.wait)
alive.start()  # from here on racewatch checks every access (no thread is alone)


def reads(obj, name, times=3):
    out = []
    for _ in range(times):
        try:
            out.append(getattr(obj, name))
        except AttributeError as exc:
            out.append(f"AttributeError: {exc}")
    return out


class Box:
    def __init__(self, x, y):
        self.x = x
        self.y = y

    def total(self):
        return self.x + self.y


b = Box(1, 2)
print([b.x for _ in range(3)], [b.y for _ in range(3)], b.total())
del b.x
print(reads(b, "x"))
b.x = 10
print(reads(b, "x"), b.total())

# a data descriptor of the same name in the class wins over the instance's value
Box.x = property(lambda self: "property")
print(reads(b, "x"), b.__dict__["x"])
del Box.x
print(reads(b, "x"))
# a plain class attribute does not
Box.y = "class"
print(reads(b, "y"), Box.y)
del Box.y
print(reads(b, "y"))


class Base:
    pass


class Child(Base):
    def __init__(self):
        self.v = "instance"


c = Child()
print(reads(c, "v"))
Base.v = property(lambda self: "base property")  # a change to a base reaches the child
print(reads(c, "v"))
del Base.v
print(reads(c, "v"))

# the object's own dict, once asked for, is where its attributes live
d = Box(3, 4)
print(reads(d, "x"))
vars(d)["x"] = 30
print(reads(d, "x"), d.total())
d.__dict__.pop("y")
print(reads(d, "y"))
d.__dict__ = {"x": 300, "y": 1}
print(reads(d, "x"), d.total())


# another class with the same layout, assigned to __class__
class Other:
    def __init__(self):
        self.y = "other y"
        self.x = "other x"


o = Other()
print(reads(o, "x"), reads(o, "y"))
e = Box(5, 6)
print(reads(e, "x"))
e.__class__ = Other
print(reads(e, "x"), reads(e, "y"), type(e).__name__)
e.__class__ = Box
print(reads(e, "x"), e.total())

# names made at run time (equal, not the same string), and attributes set in another
# order by another instance
name = "".join(["x"])
print(reads(b, name), getattr(b, "".join(["t", "otal"]))())
f = Box.__new__(Box)
f.y = "y first"
f.x = "x second"
print(reads(f, "x"), reads(f, "y"), sorted(vars(f)))


# more attributes than the class's shared keys hold
class Wide:
    pass


w = Wide()
for i in range(40):
    setattr(w, f"a{i}", i)
print([getattr(w, f"a{i}") for i in range(0, 40, 7)], reads(w, "a39"))



# writes that replace a value, then the same writes after each change under them
def writes(obj, name, values):
    for v in values:
        setattr(obj, name, v)
    return getattr(obj, name)


class Cell:
    def __init__(self):
        self.v = 0
        self.w = "w"


cell = Cell()
print(writes(cell, "v", range(5)), sorted(vars(cell).items()))
del cell.v
print(reads(cell, "v", 1), writes(cell, "v", [7, 8]), list(vars(cell)))  # back, at the end
Cell.v = property(lambda self: "got", lambda self, value: print("set", value))
print(writes(cell, "v", [9]), cell.__dict__["v"])
del Cell.v
print(writes(cell, "v", [10, 11]), cell.__dict__["v"])
seen = vars(cell)  # the object's own dict: writes must show in it
cell.v = 12
cell.w = "w2"
print(seen, seen is cell.__dict__, writes(cell, "v", [13]), seen["v"])
other = Cell()
other.__dict__ = {"v": "own dict"}
print(writes(other, "v", [14, 15]), other.__dict__)


class Dying:
    def __init__(self, label, log):
        self.label, self.log = label, log

    def __del__(self):
        self.log.append(self.label)


log = []
holder = Cell()
holder.v = Dying("first", log)
holder.v = Dying("second", log)  # the first value's __del__ runs as plain python runs it
print(log, holder.v.label)
holder.v = None
print(log)

# 3.10 gives a class new shared keys when an instance takes its names in another order
# while no other instance shares them, and the new keys may be where the old ones were
# (the same block, freed and given back): a place remembered in the old ones is not the
# same name's any more
class Seven:
    def __init__(self, first, own=False):
        if first:
            self.first = "first"
        self.a = "a"
        self.b = "b"
        self.c = "c"
        self.d = "d"
        self.e = "e"
        self.f = "f"
        if own:
            self.label = "own label"  # hides the method

    def names(self):
        return [self.a, self.b, self.c, self.d, self.e, self.f]

    def label(self):
        return "method"


for first, own in ((False, False), (True, False), (False, True), (True, True), (False, False)):
    s = Seven(first, own)
    print(s.names(), s.names(), s.label if own else s.label())
    del s


# reads from another thread, after a proper handoff
results = []
t = threading.Thread(target=lambda: results.append((reads(b, "x"), reads(w, "a5"))))
t.start()
t.join()
print(results)
done.set()
alive.join()
