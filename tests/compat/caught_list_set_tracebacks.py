"""Tracebacks that the program itself formats, of exceptions raised inside list and set
methods."""

import traceback


class BadHash:
    def __hash__(self):
        raise ValueError("bad hash")


class BadEq:
    def __eq__(self, other):
        raise ValueError("bad eq")

    def __lt__(self, other):
        raise ValueError("bad lt")

    __hash__ = object.__hash__


class BadIndex:
    def __index__(self):
        raise ValueError("bad index")


items = [1, 2, 3]
members = {1, 2, 3}
cases = {
    "getitem range": lambda: items[10],
    "getitem bad index": lambda: items[BadIndex()],
    "setitem range": lambda: items.__setitem__(-10, 0),
    "pop empty": lambda: [].pop(),
    "remove missing": lambda: items.remove(9),
    "remove bad eq": lambda: [BadEq()].remove(1),
    "index missing": lambda: items.index(9),
    "in bad eq": lambda: 1 in [BadEq()],
    "sort bad lt": lambda: [BadEq(), BadEq()].sort(),
    "extend not iterable": lambda: items.extend(1),
    "set remove missing": lambda: members.remove(9),
    "set pop empty": lambda: set().pop(),
    "set add bad hash": lambda: members.add(BadHash()),
    "set in bad hash": lambda: BadHash() in members,
    "set update not iterable": lambda: members.update(1),
    "set discard bad hash": lambda: members.discard(BadHash()),
    "set or bad operand": lambda: members | [1],
}
for name, case in cases.items():
    try:
        case()
    except Exception:
        print(f"--- {name}")
        print(traceback.format_exc())
