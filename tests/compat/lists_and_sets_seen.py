"""What a program sees of its lists and sets: type(), __class__, isinstance, subclasses,
match patterns, and the standard library functions that take them."""

import bisect
import collections
import collections.abc
import copy
import heapq
import itertools
import json
import pprint
import random
import reprlib
import statistics

items = [3, 1, 2]
members = {3, 1, 2}
made = [list("ab"), sorted("ba"), [x for x in "ab"], items.copy(), items[:], items * 2,
        items + [4], set("ab"), {x for x in range(3)}, members.copy(), members | {9}]


def describe(x):
    t = type(x)
    return (t.__name__, t.__qualname__, t.__module__, t is list, t is set,
            x.__class__ is t, isinstance(x, (list, set)), type(x) == list,  # noqa: E721
            type(x) in (list, set), t.__mro__)


print(type(items), type(members), type(items) is list, type(members) is set)
print(type(items).__name__, type(members).__name__, items.__class__, members.__class__)
print(isinstance(items, collections.abc.MutableSequence),
      isinstance(members, collections.abc.MutableSet))
print(isinstance(items, collections.abc.Hashable), issubclass(type(members), frozenset))
print(type(items)("xy"), type(members)("xy") == {"x", "y"}, str(type(items)), repr(type(members)))
for x in made:
    print(describe(x))
print([type(x) is list for x in made], sum(type(x) is set for x in made))


class Stack(list):
    def push(self, x):
        self.append(x)
        return self


class Tags(set):
    def __repr__(self):
        return f"Tags({sorted(self)})"


stack = Stack([1]).push(2)
print(stack, type(stack).__name__, isinstance(stack, list), stack == [1, 2], [1, 2] == stack)
print(Tags("ba"), sorted(Tags("a") | {"b"}), type(Tags("a") | {"b"}).__name__, {"a"} == Tags("a"))


def shape(value):
    match value:
        case []:
            return "empty"
        case [x]:
            return f"one {x}"
        case [x, *rest]:
            return f"first {x}, {len(rest)} more"
        case set() if value:
            return f"set of {len(value)}"
        case _:
            return "other"


print(shape([]), shape([1]), shape([1, 2, 3]), shape({1}), shape(set()))

# The standard library
print(json.dumps([1, [2, {"k": [3]}]]), json.dumps(items, indent=1).count("\n"))
try:
    json.dumps({"s": members})
except TypeError as exc:
    print("json:", exc)
print(json.loads("[1, [2]]"), type(json.loads("[]")).__name__)
pprint.pprint([list(range(12))] * 3, width=40)
pprint.pprint({"k": [members, {10, 20}], "wide": [set(range(30))]}, width=50)
print(pprint.pformat(items), pprint.isreadable(items), pprint.saferepr([items, items]))
print(reprlib.repr(list(range(100))), reprlib.repr(set(range(100))), reprlib.repr([[[[[1]]]]]))
heap = [5, 1, 4]
heapq.heapify(heap)
heapq.heappush(heap, 0)
print(heap, heapq.heappop(heap), heapq.nsmallest(2, [4, 2, 9]), heap)
ordered = [1, 3, 5]
bisect.insort(ordered, 4)
print(ordered, bisect.bisect(ordered, 3), bisect.bisect_left(ordered, 4))
rng = random.Random(7)
deck = list(range(8))
rng.shuffle(deck)
print(deck, rng.choice(deck), rng.sample(deck, 3), rng.sample(sorted(members), 2))
print(list(itertools.chain([1], [2])), list(itertools.permutations([1, 2])),
      statistics.mean([1, 2]))
print(collections.Counter([1, 1, 2]).most_common(1), collections.deque([1, 2], maxlen=1))
print("%s %r" % (items, members), f"{items!r} {members} {items[0]:>3}",  # noqa: UP031
      tuple(items), bytes([65]))
print(copy.copy(items) == items, copy.copy(items) is items,
      copy.deepcopy([items, items])[0] is items)
pair = [items, items]
twin = copy.deepcopy(pair)
print(twin, twin[0] is twin[1], copy.copy(members) == members, copy.deepcopy({1, (2,)}))
print(list.__getitem__(items, 0), list.__len__(items), set.__contains__(members, 1))
print(sorted(items, key=lambda v: -v), list(reversed(items)), dict(zip(items, items, strict=True)))
