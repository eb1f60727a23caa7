"""Every set method and operator: results, the set after, and the exceptions they raise.

Sets of small ints print in the same order in every process (their hashes are their
values); sets of strings are sorted before printing."""


def attempt(label, f):
    try:
        result = f()
    except Exception as exc:
        print(f"{label}: {type(exc).__name__}: {exc}")
    else:
        print(f"{label}: {result!r}")


s = {3, 1, 2}
print(s, len(s), bool(s), bool(set()), 1 in s, 9 in s, 9 not in s, list(s), sorted(s))
s.add(4)
s.add(1)
s.discard(2)
s.discard(99)
s.remove(3)
print(s, s.pop(), s, set(), repr(set()), str({5}))
attempt("remove missing", lambda: s.remove(99))
attempt("pop empty", lambda: set().pop())
attempt("add unhashable", lambda: s.add([1]))
attempt("contains unhashable", lambda: [1] in s)
attempt("discard unhashable", lambda: s.discard({}))
attempt("update int", lambda: s.update(5))
attempt("ior list", lambda: s.__ior__([1]))
attempt("or list", lambda: s | [1])
attempt("sub list", lambda: s - [1])
attempt("lt list", lambda: s < [1])
attempt("hash", lambda: hash(s))
attempt("set of sets", lambda: {frozenset({1}), s})
print({1, 2} in [{1, 2}], {1, 2}.issubset([1, 2, 3]), s)

# A set looks a set up as the frozenset it stands for
holder = {frozenset({1, 2}), 7}
print({1, 2} in holder, {9} in holder)
holder.discard({1, 2})
print(holder)
attempt("remove set", lambda: holder.remove({3}))

# Algebra, new sets
a, b = {1, 2, 3}, {3, 4}
print(a | b, a & b, a - b, b - a, a ^ b, a.union(b, [9]), a.intersection(b, {3}))
print(a.difference([1], (2,)), a.symmetric_difference([4, 5]), a.union(), a.copy())
print(a.issubset({1, 2, 3, 4}), a.issuperset([1]), a.isdisjoint((7, 8)), a.isdisjoint(b))
print(a == {3, 2, 1}, a != b, a < {1, 2, 3, 4}, a <= a, a > {1}, a >= {9}, a == [1, 2, 3])
print(frozenset({1}) | a, a | frozenset({9}), type(frozenset({1}) | a).__name__)
print(type(a | b).__name__, type(a - frozenset()).__name__, {1} == frozenset({1}))

# Algebra, in place
c = {1, 2, 3, 4}
c |= {5}
c -= {1}
c &= {2, 3, 4, 5, 6}
c ^= {2, 7}
print(c)
c.update([8], {9}, range(10, 12))
c.difference_update([10], {11})
c.intersection_update(range(20), {3, 4, 5, 7, 8, 9})
c.symmetric_difference_update([3, 30])
print(c, c.update(), c)
d = {1, 2}
alias = d
d |= {3}
d &= {1, 3}
print(d is alias, d)

# Strings, comprehensions, conversions
words = {"pear", "apple", "fig"}
words.add("kiwi")
print(sorted(words), sorted({w[0] for w in words}), sorted(set("hello")), len(set([1, 1, 2])))
print(sorted(words | {"date"}), sorted(words - {"fig"}), max(words), min({3, 1}), sum({1, 2}))
print(set(), set(()), set({1: 2}), set(range(3)), frozenset(words) == words, list({5, 6}))
clear = {1}
print(clear.clear(), clear, clear == set())
changed = {1, 2, 3}
attempt("changed size during iteration", lambda: [changed.add(x + 10) for x in changed])
