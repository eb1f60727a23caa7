"""What kind of bug a race is, and how to fix it: its pattern.

Decided from what the detector recorded, never from the program's source text: the two
accesses (their operations, lines, functions, and the locks each thread held) and, when
the later access is a write, the later thread's own read of the same location in the same
epoch, before the write (``Conflict.current_prior``: the check of a check-then-act, the
read of a read-modify-write).  Each pattern has an id, a title, a one-sentence
explanation in the program's own names (the key, the attribute or global, the class, the
functions of the two stacks) and a fix that names the lines to change (``fix_at``; the
first is the race's root, and races with one pattern and one root are one problem).

The rules, most specific first (``classify`` tries them in this order, the first that
holds wins):

1. *iterating while another thread changes it*: one side iterates the container (or reads
   every key of it: ``items()``, ``copy()``, ``==``...), the other writes it.  Before the
   others because it says how the program fails (a RuntimeError, or a mix of before and
   after) and its fix (iterate a snapshot taken under the writers' lock) is its own.
2. *lost update*: one location read and written again in one statement (``d[k] += 1``,
   ``self.n += 1``, a defaultdict miss inserting its default) by a thread, and another
   thread's write unordered with it: the recorded read and write are on one line.  A
   special case of a check-then-act, and the more specific: the write is lost.
3. *lazy initialization*: a check-then-act on an attribute or a module global whose check
   found it unset (None, or missing) - the first-use fill of a cache.  More specific than
   4, which it is a case of; without the evidence of an unset value a check-then-act on an
   attribute is only that (``if self.balance >= n: self.balance -= n`` has the same shape).
4. *check-then-act*: a thread reads a location (or its absence) on one line and writes it
   on another, and another thread writes it (or runs the same check) unordered with both;
   or one side is the check and the other the write of the same function, the check on
   an earlier line.
5. *inconsistent locking*: one side held a lock and the other none, or they held different
   locks.  After the shapes above (which say what goes wrong; their fixes name the lock
   too), before 6: a lock on one side shows which lock guards the location.
6. *unsynchronized hand-off*: one thread writes a value (a store, an insert) and another
   reads it, no lock on either side: the value is handed over with nothing to order it
   (often a polling loop with ``time.sleep``).  A size read (``len``) against an insert is
   this too (polling the size of a results dict); against a delete it is 7.
7. *unordered accesses*: whatever fits none of the above (two writes, a delete and a read,
   two atomic operations...): never a wrong name.

An operation this module does not know (a container added later, with operations of its
own) has no category: such a race can still be an inconsistent locking or unordered
accesses, never a pattern that depends on what the operation does.
"""

from __future__ import annotations

import os
import re

from ..records import record
from .model import AccessInfo, Frame, LockRef, Pattern, Race

# The categories of operations: what an access does to its location.
READ = "read"          # reads a value: d[k], d.get(k), obj.a, a global
TEST = "test"          # tests membership or searches: k in d, l.index(x)
SIZE = "size"          # len()
ITERATE = "iterate"    # reads the whole, in order: iteration, items(), copy(), ==, repr...
ORDER = "order"        # reads the order to pick an element: popitem(), a list's pop()
ATOMIC = "atomic"      # one atomic read-and-maybe-write: setdefault(), pop(k, default)
WRITE = "write"        # stores a value: d[k] = v, obj.a = v, update()
DEFAULT = "default"    # a defaultdict miss inserting the factory's value
INSERT = "insert"      # adds an element or an item: append(), add(), insert()
DELETE = "delete"      # removes one: del d[k], pop(), discard(), del obj.a, clear() of a key
CLEAR = "clear"        # rewrites the whole: clear(), sort(), reverse(), slice assignment

_WHOLE_READ_OPS = ("iter", "keys", "values", "items", "reversed", "copy", "repr", "eq", "ne",
                   "or", "reduce", "deepcopy", "vars", "slice", "compare", "add", "mul",
                   "union", "intersection", "difference", "symmetric_difference",
                   "issubset", "issuperset", "isdisjoint")
# Reads of one location (a key, an attribute, an item, an element), by operation.
_KEY_READS = {
    "getitem": READ, "get": READ, "getattr": READ, "load": READ,
    "missing": READ,      # a defaultdict without a factory: the lookup that raises
    "delitem": READ,      # del of a missing key: the lookup that raises
    "contains": TEST, "index": TEST, "count": TEST, "remove": TEST,
    "setdefault": ATOMIC, "pop": ATOMIC,
    **dict.fromkeys(_WHOLE_READ_OPS, ITERATE),
}
# Reads of the whole location (a dict's keys, a list's items, a set's members).
_WHOLE_READS = {
    "len": SIZE, "popitem": ORDER, "pop": ORDER, "insert": ORDER,
    "contains": TEST, "index": TEST, "count": TEST, "remove": TEST,
    **dict.fromkeys(_WHOLE_READ_OPS, ITERATE),
}
_DELETES = frozenset({"delitem", "pop", "popitem", "delattr", "delete", "remove", "discard",
                      "clear", "delslice", "difference_update", "isub",
                      "intersection_update", "iand"})
# Writes of one location, by operation (the deletes above aside).
_KEY_WRITES = {
    "setitem": WRITE, "setattr": WRITE, "store": WRITE, "update": WRITE, "ior": WRITE,
    "setslice": WRITE, "sort": WRITE, "reverse": WRITE, "imul": WRITE,
    "symmetric_difference_update": WRITE, "ixor": WRITE,
    "missing": DEFAULT, "setdefault": ATOMIC,
    "append": INSERT, "extend": INSERT, "iadd": INSERT, "insert": INSERT, "add": INSERT,
}
_PUBLISHES = frozenset({WRITE, INSERT, DEFAULT, ATOMIC})   # a write that leaves a value
_READS_A_VALUE = frozenset({READ, TEST, SIZE, ATOMIC})


def category(access: AccessInfo, whole: bool) -> str | None:
    """What ``access`` does to its location (``whole``: the container's whole location);
    None for an operation this module does not know."""
    op = access.op
    if access.write:
        if whole and not access.update:
            return CLEAR
        if op in _DELETES:
            return DELETE
        return INSERT if whole else _KEY_WRITES.get(op)
    return (_WHOLE_READS if whole else _KEY_READS).get(op)


@record
class _Side:
    """One access of the race, as the rules look at it."""

    access: AccessInfo
    cat: str | None

    @property
    def top(self) -> Frame | None:
        return self.access.stack[0] if self.access.stack else None

    @property
    def write(self) -> bool:
        return self.access.write

    @property
    def locks(self) -> set[str]:
        return {lk.name for lk in self.access.locks_held}

    def same_line(self, other: _Side) -> bool:
        a, b = self.top, other.top
        return a is not None and b is not None and (a.file, a.line) == (b.file, b.line)

    def same_function(self, other: _Side) -> bool:
        a, b = self.top, other.top
        return (a is not None and b is not None and a.file == b.file
                and a.function == b.function)


# -- the words ---------------------------------------------------------------------------


def at(frame: Frame | None) -> str:
    """``racy.py:12``: the file's name and the line."""
    if frame is None:
        return "an unknown line"
    return f"{os.path.basename(frame.file) or frame.file}:{frame.line}"


def who(frame: Frame | None) -> str:
    """The function, as the stack names it (``Client.conn``), or the module's own code."""
    if frame is None:
        return "unknown code"
    if frame.function == "<module>":
        return "the module's top-level code"
    return frame.function


def location(race: Race) -> str:
    """The location in the program's names: ``key 'hits'``, ``Client._conn``, ``global
    total``; for the whole location, the container: ``the dict``, ``the Stats object``."""
    c = race.container
    if race.whole:
        return c.phrase("the")
    name = race.value if isinstance(race.value, str) else race.key
    if c.type in ("object", "class"):
        return f"{c.name or 'the object'}.{name}"
    if c.type == "module":
        return f"global {name}"
    return f"{race.location} {race.key}"


_LIBRARY = re.compile(r"[/\\](?:site|dist)-packages[/\\]|[/\\]lib[/\\]python\d+\.\d+t?[/\\]|^<")


def _made_at(lock: LockRef) -> Frame | None:
    """Where the program made a lock: the first frame of its creation stack that is not
    the standard library's (a Condition's RLock is made in threading.py, for the program's
    ``threading.Condition()``)."""
    for frame in lock.created_at:
        if not _LIBRARY.search(frame.file):
            return frame
    return lock.created_at[0] if lock.created_at else None


def lock_phrase(locks: list[LockRef]) -> str:
    """``Lock#2 (created at app.py:5)``, for each lock, joined."""
    parts = []
    for lock in locks:
        made = _made_at(lock)
        parts.append(f"{lock.name} (created at {at(made)})" if made else lock.name)
    return " and ".join(parts)


def _uses(side: _Side, f: _Race, first: bool = True) -> str:
    """What a side does to the location, as a verb phrase: ``writes key 'x' (setitem)``;
    ``first``: the location's first mention in the sentence (later: ``it``)."""
    op = side.access.op
    if f.whole:
        loc = f.loc
        key = side.access.key
        one = f"{key} " if key is not None else ""
        phrases = {SIZE: f"reads the size of {loc} ({op})",
                   ITERATE: f"iterates over {loc} ({op})",
                   ORDER: f"takes an element of {loc} by its order ({op})",
                   TEST: f"searches {loc} ({op})",
                   INSERT: f"inserts {one}into {loc} ({op})",
                   DELETE: f"deletes {one}from {loc} ({op})",
                   CLEAR: f"rewrites {loc} ({op})"}
        return phrases.get(side.cat) or f"{'writes' if side.write else 'reads'} {loc} ({op})"
    loc = f.loc if first else "it"
    phrases = {READ: f"reads {loc} ({op})", TEST: f"tests {loc} ({op})",
               SIZE: f"reads the size of {loc} ({op})", ITERATE: f"reads {loc} ({op})",
               ORDER: f"reads {loc} ({op})", ATOMIC: f"calls {op}() on {loc}",
               WRITE: f"writes {loc} ({op})",
               DEFAULT: f"inserts a default for {loc} (defaultdict miss)",
               INSERT: f"inserts {loc} ({op})", DELETE: f"deletes {loc} ({op})",
               CLEAR: f"rewrites {loc} ({op})"}
    return phrases.get(side.cat) or f"{'writes' if side.write else 'reads'} {loc} ({op})"


def _lines(a: Frame | None, b: Frame | None) -> str:
    """``racy.py:8 and line 9`` (or both files named), ``racy.py:8`` for one line."""
    if a is not None and b is not None and (a.file, a.line) == (b.file, b.line):
        return at(a)
    if a is not None and b is not None and a.file == b.file:
        return f"{at(a)} and line {b.line}"
    return f"{at(a)} and {at(b)}"


def _lock_fix(guarded: _Side, line: Frame | None) -> str:
    """Take the lock the other side holds around ``line``."""
    return (f"in {who(line)}, take {lock_phrase(guarded.access.locks_held)} around "
            f"{at(line)} too, as {who(guarded.top)} does at {at(guarded.top)}")


def _frames(*frames: Frame | None) -> list[Frame]:
    out: list[Frame] = []
    for f in frames:
        if f is not None and all((f.file, f.line) != (g.file, g.line) for g in out):
            out.append(f)
    return out


# -- the rules ---------------------------------------------------------------------------


class _Race:
    """The facts the rules decide from."""

    def __init__(self, race: Race, prior: AccessInfo | None, seen_unset: bool):
        whole = race.whole
        self.race = race
        self.whole = whole
        self.p = _Side(race.previous, category(race.previous, whole))
        self.c = _Side(race.current, category(race.current, whole))
        self.r = (_Side(prior, category(prior, whole))
                  if prior is not None and race.current.write else None)
        self.seen_unset = seen_unset
        self.loc = location(race)

    def pattern(self, id: str, title: str, explanation: str, fix: str,
                *fix_at: Frame | None) -> Pattern:
        return Pattern(id, title, explanation, fix, _frames(*fix_at))


def _iteration(f: _Race) -> Pattern | None:
    for reader, writer in ((f.p, f.c), (f.c, f.p)):
        if reader.cat == ITERATE and writer.write:
            break
    else:
        return None
    race = f.race
    container = race.container.phrase("the")
    if not f.whole:
        outcome = "it can see some values from before the change and some from after"
    elif race.container.type == "list":
        outcome = "the loop can skip or repeat items"
    else:
        outcome = ("it can fail with RuntimeError (changed size during iteration), or see "
                   "some of the changes and miss others")
    explanation = (f"{who(reader.top)} iterates over {container} ({reader.access.op}) at "
                   f"{at(reader.top)} while {who(writer.top)} {_uses(writer, f)} at "
                   f"{at(writer.top)} in another thread: {outcome}.")
    title = "iterating while another thread changes it"
    if writer.access.locks_held and not reader.locks & writer.locks:
        fix = (f"iterate a snapshot taken under the writers' lock, "
               f"{lock_phrase(writer.access.locks_held)}, which {who(writer.top)} holds at "
               f"{at(writer.top)}: at {at(reader.top)}, copy {container} (list(...)) while "
               "holding that lock, and loop over the copy")
        return f.pattern("iteration-while-changing", title, explanation, fix, reader.top)
    fix = (f"take one lock around the change at {at(writer.top)} and around a copy of "
           f"{container} made at {at(reader.top)} (list(...) under the lock), then loop over "
           "the copy; or wait for the writing thread to finish (join it) before iterating")
    return f.pattern("iteration-while-changing", title, explanation, fix,
                     writer.top, reader.top)


def _lost_update(f: _Race) -> Pattern | None:
    if f.whole:
        return None
    p, c, r = f.p, f.c, f.r
    if (c.write and c.cat in (WRITE, DEFAULT) and r is not None
            and r.cat in (READ, TEST) and r.same_line(c) and (p.write or p.same_line(c))):
        rmw, writer = c, p           # this thread read and wrote it on one line
    elif (not c.write and c.cat in (READ, TEST) and p.write and p.cat in (WRITE, DEFAULT)
            and p.same_line(c)):
        rmw, writer = c, p           # the other thread wrote it on the line this one reads
    elif (c.write and c.cat in (WRITE, DEFAULT) and not p.write and p.cat in (READ, TEST)
            and p.same_line(c)):
        rmw, writer = c, p           # the other thread read it on the line this one writes
    else:
        return None
    line = rmw.top
    both = writer.same_line(rmw)     # both threads run the read-modify-write
    title = "lost update"
    if DEFAULT in (p.cat, c.cat):
        explanation = (f"{who(line)} looks up {f.loc} at {at(line)} in two threads, and "
                       "where it is missing the defaultdict inserts a new default in each: "
                       "one thread's value, and what it added to it, can be lost.")
        fix = (f"create {f.loc} before the threads start, or hold one lock around "
               f"{at(line)}; setdefault({f.race.key}, ...) also creates it in one atomic step")
        return f.pattern("lost-update", title, explanation, fix, line)
    if both:
        explanation = (f"{who(line)} reads {f.loc} and writes it back in one statement at "
                       f"{at(line)}, in two threads: one thread's write can fall between the "
                       "other's read and write, and that update is lost.")
    else:
        explanation = (f"{who(line)} reads {f.loc} and writes it back at {at(line)}, while "
                       f"{who(writer.top)} writes it at {at(writer.top)} in another thread: "
                       "that write can fall between the read and the write, and is lost.")
    mine, theirs = rmw.locks, writer.locks
    if theirs and not mine:
        return f.pattern("lost-update", title, explanation, _lock_fix(writer, line), line)
    if mine and not theirs:
        return f.pattern("lost-update", title, explanation, _lock_fix(rmw, writer.top),
                         writer.top, line)
    if mine and theirs:
        where = (f"at {at(line)} one thread holds {lock_phrase(rmw.access.locks_held)} and the "
                 f"other {lock_phrase(writer.access.locks_held)}" if both else
                 f"{lock_phrase(rmw.access.locks_held)} at {at(line)} and "
                 f"{lock_phrase(writer.access.locks_held)} at {at(writer.top)}")
        fix = (f"guard {f.loc} with one lock: {where}, different locks; take the same one on "
               "both sides")
        return f.pattern("lost-update", title, explanation, fix, line, writer.top)
    also = "" if both else f", and around the write at {at(writer.top)},"
    fix = (f"make the read-modify-write at {at(line)} atomic: hold one threading.Lock around "
           f"it{also} in every thread that writes {f.loc}")
    return f.pattern("lost-update", title, explanation, fix,
                     line, None if both else writer.top)


def _check_then_act(f: _Race) -> tuple[_Side, _Side, _Side] | None:
    """(check, act, other): the read that checked, the write that acted on it, the other
    thread's access; None when the race is not that shape."""
    p, c, r = f.p, f.c, f.r
    if c.write and r is not None and not r.same_line(c) and (p.write or p.same_line(r)):
        return r, c, p               # this thread checked, then wrote
    if (not c.write and c.cat is not None and c.cat != ITERATE and p.write
            and p.cat is not None and c.same_function(p) and c.top.line < p.top.line):
        return c, p, p               # this thread checks what the other's code then writes
    if (c.write and c.cat is not None and not p.write and p.cat is not None
            and p.cat != ITERATE and p.same_function(c) and p.top.line < c.top.line):
        return p, c, c               # the other thread checked what this one writes
    return None


def _act_words(act: _Side, f: _Race) -> tuple[str, str]:
    """What the act does (``deletes it``) and what it is called (``delete``)."""
    op = act.access.op
    if act.cat == DELETE:
        return f"deletes {'from ' if f.whole else ''}it ({op})", "delete"
    if act.cat == INSERT and f.whole:
        key = act.access.key
        return f"inserts {key + ' ' if key else ''}into it ({op})", "insert"
    if act.cat == CLEAR:
        return f"rewrites it ({op})", op
    return f"writes it ({op})", "write"


def _guarded(a: _Side, b: _Side) -> _Side | None:
    """The side that held a lock, when exactly one did."""
    if a.locks and not b.locks:
        return a
    if b.locks and not a.locks:
        return b
    return None


def _check_explanation(f: _Race, check: _Side, act: _Side, other: _Side) -> str:
    acts = _act_words(act, f)[0]
    checked = f"the size of {f.loc}" if f.whole and check.cat == SIZE else f.loc
    if other is act:
        return (f"{who(check.top)} checks {checked} at {at(check.top)} ({check.access.op}), "
                f"and {who(act.top)} {acts} at {at(act.top)} in another thread: two threads "
                "can both pass the check, and both act on it.")
    if other.write:
        return (f"{who(act.top)} checks {checked} at {at(check.top)} ({check.access.op}) and "
                f"then {acts} at {at(act.top)}, while {who(other.top)} "
                f"{_uses(other, f, first=False)} at {at(other.top)} in another thread: the "
                "check can be out of date by the time of the act.")
    return (f"{who(act.top)} checks {checked} at {at(check.top)} ({check.access.op}) and then "
            f"{acts} at {at(act.top)}, and another thread runs the same check: both can pass "
            "it, and both act on it.")


def _lazy_initialization(f: _Race) -> Pattern | None:
    if f.race.container.type not in ("object", "class", "module") or not f.seen_unset:
        return None
    shape = _check_then_act(f)
    if shape is None or shape[1].cat != WRITE:
        return None
    check, act, _ = shape
    explanation = (f"{who(act.top)} checks {f.loc} at {at(check.top)} and sets it at "
                   f"{at(act.top)} on first use: two threads can both find it unset and both "
                   "set it, and a thread that finds it set is not ordered after the write "
                   "that set it.")
    lines = _lines(check.top, act.top)
    guarded = _guarded(f.p, f.c)
    if guarded is not None:
        fix = (f"hold {lock_phrase(guarded.access.locks_held)} around the check and the "
               f"assignment ({lines}), as {who(guarded.top)} does at {at(guarded.top)}; or "
               f"set {f.loc} before the threads start")
    else:
        fix = (f"set {f.loc} before the threads start, or hold one lock around the check and "
               f"the assignment ({lines}), checking again under the lock")
    return f.pattern("lazy-initialization", "lazy initialization", explanation, fix,
                     act.top, check.top)


def _check_then_act_pattern(f: _Race) -> Pattern | None:
    shape = _check_then_act(f)
    if shape is None:
        return None
    check, act, other = shape
    explanation = _check_explanation(f, check, act, other)
    noun = _act_words(act, f)[1]
    both = f"the check and the {noun} ({_lines(check.top, act.top)})"
    container = f.race.container.type
    guarded = _guarded(f.p, f.c)
    def lock(around: str) -> str:
        if guarded is None:
            return f"hold one lock around {around}"
        return (f"hold {lock_phrase(guarded.access.locks_held)} around {around}, as "
                f"{who(guarded.top)} does at {at(guarded.top)}")

    op = act.access.op
    # The accesses do not say whether the write inserted the key or replaced its value, nor
    # what the check tested: the atomic operation is offered for the case it fits.
    key = f.race.key
    if (container in ("dict", "defaultdict") and not f.whole and op == "setitem"
            and check.cat in (TEST, READ)):
        fix = (f"{lock(both)}; where the check only asks whether {key} is missing, "
               f"setdefault({key}, value) checks and inserts in one atomic step")
    elif container in ("dict", "defaultdict") and not f.whole and op in ("delitem", "pop"):
        fix = (f"{lock(both)}; where the check only asks whether {key} is there, "
               f"pop({key}, None) checks and deletes in one atomic step")
    elif f.whole and check.cat == SIZE and op in ("pop", "popitem"):
        error = "IndexError" if container == "list" else "KeyError"
        fix = (f"call {op}() and catch the {error} instead of checking the size first at "
               f"{at(check.top)}; or {lock('the check and the ' + op + '()')}")
    else:
        fix = lock(both)
    return f.pattern("check-then-act", "check-then-act", explanation, fix,
                     act.top, check.top)


def _inconsistent_locking(f: _Race) -> Pattern | None:
    p, c = f.p, f.c
    if not (p.locks or c.locks) or p.locks & c.locks:
        return None
    title = "inconsistent locking"
    guarded = _guarded(p, c)
    if guarded is not None:
        bare = c if guarded is p else p
        explanation = (f"{who(guarded.top)} holds {lock_phrase(guarded.access.locks_held)} "
                       f"when it {_uses(guarded, f)} at {at(guarded.top)}, but "
                       f"{who(bare.top)} {_uses(bare, f, first=False)} at {at(bare.top)} in "
                       "another thread without it: a lock orders only the code that takes it.")
        return f.pattern("inconsistent-locking", title, explanation,
                         _lock_fix(guarded, bare.top), bare.top)
    explanation = (f"{who(p.top)} holds {lock_phrase(p.access.locks_held)} when it "
                   f"{_uses(p, f)} at {at(p.top)}, and {who(c.top)} holds "
                   f"{lock_phrase(c.access.locks_held)} when it {_uses(c, f, first=False)} at "
                   f"{at(c.top)}: different locks, so nothing orders the two.")
    fix = (f"guard {f.loc} with one lock: take the same lock object at "
           f"{_lines(c.top, p.top)}" + (" in both threads" if p.same_line(c) else ""))
    return f.pattern("inconsistent-locking", title, explanation, fix, c.top, p.top)


def _handoff(f: _Race) -> Pattern | None:
    p, c = f.p, f.c
    if p.locks or c.locks:
        return None
    for writer, reader in ((p, c), (c, p)):
        if (writer.write and writer.cat in _PUBLISHES and not reader.write
                and reader.cat in _READS_A_VALUE):
            break
    else:
        return None
    explanation = (f"{who(writer.top)} {_uses(writer, f)} at {at(writer.top)} and "
                   f"{who(reader.top)} {_uses(reader, f, first=False)} at {at(reader.top)} in "
                   "another thread, and nothing hands it over between them: what the reader "
                   "sees depends on timing (time.sleep and polling are not synchronization).")
    if f.race.container.type in ("object", "class", "module") and not f.whole:
        name = f.race.value if isinstance(f.race.value, str) else f.race.key
        fix = (f"use a threading.Event, not {name} itself, to say it is ready: set() the Event "
               f"after the write at {at(writer.top)}, and wait() for it (or see is_set() "
               f"return True) before the read at {at(reader.top)}; polling {name} orders "
               "nothing. Or hand the value over through a queue.Queue")
    else:
        fix = (f"hand it over: put it on a queue.Queue after the write at {at(writer.top)} "
               f"and get() it before the read at {at(reader.top)}; or set a threading.Event "
               "after the write and wait() for it before the read, or join the writing "
               "thread first")
    return f.pattern("unsynchronized-handoff", "unsynchronized hand-off", explanation, fix,
                     writer.top, reader.top)


def _unordered(f: _Race) -> Pattern:
    p, c = f.p, f.c
    if p.same_line(c) and p.access.op == c.access.op:
        explanation = (f"{who(c.top)} {_uses(c, f)} at {at(c.top)} in two threads, and "
                       "nothing orders the two: the outcome depends on which runs first.")
        where = f"{at(c.top)} in both threads"
    else:
        explanation = (f"{who(p.top)} {_uses(p, f)} at {at(p.top)} and {who(c.top)} "
                       f"{_uses(c, f, first=False)} at {at(c.top)} in another thread, and "
                       "nothing orders the two: the outcome depends on which runs first.")
        where = _lines(p.top, c.top)
    fix = (f"order the two: hold one lock around both ({where}), or make one thread wait for "
           "the other (Thread.join, an Event or a queue)")
    if p.cat in (ATOMIC, DELETE, ORDER) and c.cat in (ATOMIC, DELETE, ORDER):
        fix += ("; each is one atomic operation, so if either order is right the race is "
                "harmless: mark the line with '# racewatch: ignore'")
    return f.pattern("unordered-accesses", "unordered accesses", explanation, fix,
                     c.top, p.top)


RULES = (_iteration, _lost_update, _lazy_initialization, _check_then_act_pattern,
         _inconsistent_locking, _handoff)

# Each pattern once, for the SARIF rules and the documentation: (id, title, what it is, in
# Markdown), in the order of RULES, the most specific first.
PATTERNS = (
    ("iteration-while-changing", "iterating while another thread changes it",
     "One thread iterates a container, or reads all of it, while another changes it: the "
     "loop can fail (`RuntimeError: dictionary changed size during iteration`), skip or "
     "repeat items, or see a mix of old and new values. Iterate a snapshot taken under the "
     "writers' lock, or wait for the writers to finish."),
    ("lost-update", "lost update",
     "A read-modify-write of one location (`d[k] += 1`, `self.n += 1`, a `defaultdict` miss) "
     "by a thread, and another thread's write in between: one of the updates is lost. Hold "
     "one lock around the read and the write, in every thread that writes the location."),
    ("lazy-initialization", "lazy initialization",
     "A value set on first use (`if x is None: x = make()`) from two threads: both can set "
     "it, and a thread that finds it set is not ordered after the write. Set it before the "
     "threads start, or check and set it under one lock."),
    ("check-then-act", "check-then-act",
     "A thread checks a location (`k in d`, `d.get(k)`, `len(d)`, `self.x`) and acts on it "
     "later, while another thread changes it in between. Do the check and the act under one "
     "lock, or use an atomic operation where one exists (`d.setdefault(k, v)`, "
     "`d.pop(k, None)`)."),
    ("inconsistent-locking", "inconsistent locking",
     "One access held a lock and the other none, or they held different locks: a lock "
     "orders only the code that takes it. Take the same lock on both sides."),
    ("unsynchronized-handoff", "unsynchronized hand-off",
     "A value written by one thread and read by another with nothing between them that "
     "hands it over, often a polling loop with `time.sleep`. Use a `threading.Event`, a "
     "`queue.Queue`, a `Future` or `Thread.join()`."),
    ("unordered-accesses", "unordered accesses",
     "Two accesses from different threads, at least one a write, that no synchronization "
     "orders: the outcome depends on which runs first. Order them with one lock, or make "
     "one thread wait for the other."),
)


def classify(race: Race, prior: AccessInfo | None = None, seen_unset: bool = False) -> Pattern:
    """The pattern of ``race``: ``prior`` is the current thread's own read of the location
    in its epoch, before the current access (a write); ``seen_unset``, whether a read of
    the location found it unset (None, or missing)."""
    facts = _Race(race, prior, seen_unset)
    for rule in RULES:
        found = rule(facts)
        if found is not None:
            return found
    return _unordered(facts)


# The patterns by how specific they are: a later occurrence of a race that shows a more
# specific one refines it (racewatch.runtime.races).
RANK = {pattern_id: rank for rank, (pattern_id, _, _) in enumerate(reversed(PATTERNS))}
