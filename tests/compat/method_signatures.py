"""Calling dict, list and set methods wrongly raises the TypeError that they raise."""

from collections import defaultdict


def attempt(label, f):
    try:
        result = f()
    except Exception as exc:
        print(f"{label}: {type(exc).__name__}: {exc}")
    else:
        print(f"{label}: {result!r}")


def wrong_calls(target):
    attempt("get()", lambda: target.get())
    attempt("get(k, default=)", lambda: target.get("z", default=0))
    attempt("get(key=)", lambda: target.get(key="a"))
    attempt("get 3 args", lambda: target.get(1, 2, 3))
    attempt("pop()", lambda: target.pop())
    attempt("pop(key=)", lambda: target.pop(key="a"))
    attempt("setdefault()", lambda: target.setdefault())
    attempt("setdefault(key=, default=)", lambda: target.setdefault(key="n", default=1))
    attempt("popitem(1)", lambda: target.popitem(1))
    attempt("keys(1)", lambda: target.keys(1))
    attempt("values(1)", lambda: target.values(1))
    attempt("items(1)", lambda: target.items(1))
    attempt("clear(1)", lambda: target.clear(1))
    attempt("copy(1)", lambda: target.copy(1))
    attempt("fromkeys()", lambda: target.fromkeys())
    attempt("fromkeys(value=)", lambda: target.fromkeys("ab", value=0))
    attempt("__getitem__()", lambda: target.__getitem__())
    attempt("__contains__(1, 2)", lambda: target.__contains__(1, 2))
    attempt("__len__(1)", lambda: target.__len__(1))
    print(sorted(target.items()))


wrong_calls({"a": 1})
wrong_calls(defaultdict(int))


items = [1, 2]
attempt("list insert(1)", lambda: items.insert(1))
attempt("list append(1, 2)", lambda: items.append(1, 2))
attempt("list append()", lambda: items.append())
attempt("list pop(1, 2)", lambda: items.pop(1, 2))
attempt("list index()", lambda: items.index())
attempt("list count()", lambda: items.count())
attempt("list sort(len)", lambda: items.sort(len))
attempt("list sort(keys=)", lambda: items.sort(keys=len))
attempt("list copy(1)", lambda: items.copy(1))
attempt("list * str", lambda: items * "2")
members = {1, 2}
attempt("set add(1, 2)", lambda: members.add(1, 2))
attempt("set discard()", lambda: members.discard())
attempt("set pop(1)", lambda: members.pop(1))
attempt("set update(x=1)", lambda: members.update(x=1))
attempt("set issubset()", lambda: members.issubset())
attempt("set symmetric_difference_update()", lambda: members.symmetric_difference_update())
print(items, members)
