"""Every list method and operator: results, the list after, and the exceptions they raise."""


class Index:
    """An index of its own: list methods call its __index__ once each."""

    calls = 0

    def __index__(self):
        Index.calls += 1
        return 1


def attempt(label, f):
    try:
        result = f()
    except Exception as exc:
        print(f"{label}: {type(exc).__name__}: {exc}")
    else:
        print(f"{label}: {result!r}")


a = [3, 1, 2]
print(len(a), bool(a), bool([]), 1 in a, 9 in a, 9 not in a, a[0], a[-1], a[Index()], a[True])
print(a[1:], a[::-1], a[-2:], a[5:], a[::2], a.index(2), a.count(1), a.count(9))
a.append(4)
a.extend((5, 6))
a.extend(x for x in (7,))
a += [8]
a.insert(0, 0)
a.insert(-1, -1)
a.insert(100, 100)
a.insert(-100, -100)
print(a)
print(a.pop(), a.pop(0), a.pop(-2), a.pop(Index()), a)
a.remove(4)
del a[0]
del a[-1]
del a[1:3]
a[0] = "first"
a[-1] = "last"
a[1:2] = ["x", "y", "z"]
a[::2] = [10] * len(a[::2])
print(a, Index.calls)
attempt("index missing", lambda: a.index(99))
attempt("index range", lambda: a.index(10, 1, 2))
attempt("remove missing", lambda: a.remove(99))
attempt("getitem range", lambda: a[99])
attempt("getitem negative range", lambda: a[-99])
attempt("getitem str", lambda: a["x"])
attempt("getitem float", lambda: a[1.0])
attempt("getitem huge", lambda: a[2**100])
attempt("setitem range", lambda: a.__setitem__(99, 0))
attempt("delitem range", lambda: a.__delitem__(-99))
attempt("extended slice size", lambda: a.__setitem__(slice(None, None, 2), [1]))
attempt("pop empty", lambda: [].pop())
attempt("pop range", lambda: [1].pop(5))
attempt("pop two args", lambda: a.pop(1, 2))
attempt("insert str index", lambda: a.insert("0", 1))
attempt("extend int", lambda: a.extend(5))
attempt("iadd int", lambda: a.__iadd__(5))
attempt("add tuple", lambda: a + (1,))
attempt("radd", lambda: (1,) + a)
attempt("imul str", lambda: a.__imul__("2"))
attempt("sort mixed", lambda: [1, "a"].sort())
attempt("sort positional", lambda: a.sort(len))
attempt("hash", lambda: hash(a))
attempt("set of lists", lambda: {a})
attempt("lt int", lambda: a < 1)
print(a)

# Operators and comparisons
b = [1, 2]
c = b * 2
d = 3 * b
e = b + [3]
b *= 2
b += (5,)
print(b, c, d, e, b == c + [5], b != c, b < c, [1, 2] <= [1, 2, 3], [2] > [1, 9], b >= b)
print([] * 5, [0] * 0, [[]] * 2, [None] * 3, [1, 2] * -1)
m = [1, 2, 3]
m *= 0
print(m, len(m))

# sort, reverse, clear, copy
words = ["banana", "Apple", "cherry", "apple"]
words.sort()
print(words)
words.sort(key=str.lower)
print(words)
words.sort(key=len, reverse=True)
print(words, sorted(words), sorted(words, key=lambda w: w[-1]), sorted(words, reverse=True))
words.reverse()
copy = words.copy()
copy.append("date")
print(words, copy, words.copy() == words, words[:] is words, copy.clear(), copy)
nested = [[1], [2]]
shallow = nested.copy()
shallow[0].append(9)
print(nested, shallow, list(reversed(nested)), list(iter(nested)))

# Iteration while changing, and a list holding itself
grow = [1, 2, 3]
for x in grow:
    if x < 3:
        grow.append(x + 10)
print(grow)
loop = [1]
loop.append(loop)
print(loop, repr(loop), str(loop), loop == loop, len(loop))
attempt("recursive compare", lambda: loop == [1, [1, loop]])

# Unpacking, starred, enumerate, zip
first, *rest = [1, 2, 3]
[p, q] = (4, 5)
print(first, rest, p, q, [*rest, *"ab"], list(enumerate(["a", "b"])),
      list(zip([1], [2], strict=True)))
print(max([3, 9, 1]), min([3, 9, 1]), sum([1, 2]), any([0, 1]), all([]), ", ".join(["a", "b"]))
print([x * y for x in [1, 2] for y in [10, 20] if x != y], [[0] * 2 for _ in range(2)])
print(list("abc"), list(range(3)), list(), list({1: 2}), sorted({3, 1, 2}), sorted("cab"))
