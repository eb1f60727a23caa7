"""Calling dict methods wrongly raises the TypeError that dict raises."""

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
