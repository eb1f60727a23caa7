"""A parallel stress workload for one tracked container, with known races and a known result.

A tiny script, instrumented, hands this module a function that makes a tracked container
(a dict, a list, a set, or an object whose attributes are watched); this module is
imported from the tests' directory, so racewatch does not instrument it: every container
it makes for itself is a plain one, and the only tracked accesses of the run are those it
makes on purpose, to the shared container and to containers of its own that each thread
makes and uses alone.  (Attributes are the exception: racewatch checks only the accesses
that instrumented code makes, so their exerciser lives in tests/stress_objects.py, which
the runs instrument.)  It runs the same under plain ``python`` (the container is then a
plain one): what it prints depends on nothing the threads' interleaving decides, so the
two outputs are equal.

The workload, for ``threads`` workers and ``rounds`` rounds, each round ending at a barrier
(a happens-before edge between every pair of workers):

* private: each worker, without a lock, reads and writes locations only it touches (its
  own keys: every single-key operation), reads the locations every worker shares
  read-only this round, and, under a shared lock, inserts and deletes keys of its own and
  counts in a shared location (what each kind does without the lock, and what under it,
  its exerciser says); it also starts and joins short-lived threads that do the same on
  locations of their own (thread start and exit churn), and takes private locks;
* signals: every worker at once uses an Event (one sets it again and again while the
  others test it), a Semaphore and a Queue, so that the edges of each are recorded by
  several threads at the same time;
* locked: each worker, under one shared lock, makes every whole-container operation
  (length, iteration, copies, comparisons, ``clear``...), leaving the container as it
  found it;
* publish: one worker, alone, writes the read-only locations of the next round.

None of that is a race.  After the last round every worker makes the accesses of
``racy``, the known races: each is marked by a RACE comment with its name on its line(s)
in its exerciser's class, so that a test expects exactly one race per name, between those
lines.

Whether two threads that insert or delete different keys race is the model's choice (it
is one with ``report_key_order``): the dict workload does that under a lock only, so that
its races are the same either way.  The list and set workloads append, add and remove
their own items without a lock, as ``results.append(x)`` from workers does: they are for
the default rule.

Each worker counts, per operation, the tracked accesses it made (``ACCESSES`` says how
many accesses each operation is to the detector, measured under both cores); the run
prints their total, which must equal the detector's own count.  Each kind of container is
an ``Exerciser`` in ``EXERCISERS``.
"""

from __future__ import annotations

import pickle
import queue
import sys
import threading
import zlib
from collections import Counter

TIMEOUT = 120.0  # seconds: a barrier or join that waits longer is a hang, and fails
SIGNALS = 50     # Event.set() / is_set() calls per worker and round


class Exerciser:
    """What the workload does to one kind of container (see the module's docstring).

    ``make()`` makes a tracked container of its kind; an operation that makes one (a copy)
    is tallied as "made", with no access of its own.
    """

    # accesses the detector counts for each operation the exerciser names in its tallies
    # (a mapping, or (operation, accesses) pairs)
    ACCESSES: dict[str, int] | tuple[tuple[str, int], ...] = {}

    def __init__(self, make):
        self.make = make

    def prepare(self, c, parts: list[str], tally: Counter) -> None:
        """In the main thread, before any worker starts; ``parts`` names every part that
        ``private`` will be given."""

    def private(self, c, part: str, rnd: int, lock, tally: Counter) -> int:
        """Race-free operations on locations of ``part`` only, those that change the
        container's set of locations under ``lock``; a checksum of what was read."""
        raise NotImplementedError

    def counted(self, c, tally: Counter) -> None:
        """One increment of the shared counter (the caller holds the shared lock)."""
        raise NotImplementedError

    def locked(self, c, rnd: int, tally: Counter) -> int:
        """Whole-container operations (the caller holds the shared lock); a checksum."""
        raise NotImplementedError

    def publish(self, c, rnd: int, tally: Counter) -> None:
        """Write the locations every worker reads in round ``rnd``."""
        raise NotImplementedError

    def racy(self, c, worker: int, tally: Counter) -> None:
        """The known races."""
        raise NotImplementedError

    def final(self, c, tally: Counter) -> str:
        """The container's final state, as text."""
        raise NotImplementedError


def _crc(value) -> int:
    return zlib.crc32(repr(value).encode())


def int_attributes(attrs: dict, *leave_out: str) -> list:
    """The attributes in ``attrs`` whose values are ints, in name order (plain code, for the
    instrumented stress_objects: a list made there would be tracked)."""
    return sorted((k, v) for k, v in attrs.items() if type(v) is int and k not in leave_out)


class DictExerciser(Exerciser):
    """Every dict operation of the race model (README, "What counts as a race")."""

    KEYS = 12      # a worker's own keys
    SHARED = 8     # keys every worker reads in a round

    ACCESSES = {
        "setitem": 1, "getitem": 1, "get": 1, "contains": 1, "setdefault": 1, "pop": 1,
        "delitem": 1, "update_pair": 1, "ior_pair": 1, "len": 1, "list": 2, "keys": 1,
        "values": 1, "items": 1, "reversed": 1, "copy": 1, "eq": 1, "repr": 1, "or": 1,
        "popitem": 2, "clear": 1, "made": 0,  # popitem: reads the keys, writes its key
    }

    def prepare(self, c, parts, tally):
        for j in range(self.SHARED):
            c[f"shared.{j}"] = 0
        for key in ("counter", "racy.rw", "racy.ww"):
            c[key] = 0
        tally["setitem"] += self.SHARED + 3

    def private(self, c, part, rnd, lock, tally):
        total = 0
        keys = [f"{part}.{j}" for j in range(self.KEYS)]
        if rnd == 0:
            with lock:
                for j, k in enumerate(keys):
                    c[k] = j                           # inserts
            tally["setitem"] += self.KEYS
        for j, k in enumerate(keys):                   # single-key reads and writes
            c[k] = rnd * 1000 + j
            total += c[k] + c.get(k, 0)
            total += c.get(k + ".missing", 1)
            total += (k in c) + (k + ".missing" in c)
            total += c.setdefault(k, -1)               # present: a read
            total += c.pop(k + ".missing", 2)          # missing: a read
            c.update({k: j})
            c |= {k: j + 2}
            total += c[k]
        tally["setitem"] += self.KEYS
        tally["getitem"] += 2 * self.KEYS
        tally["get"] += 2 * self.KEYS
        tally["contains"] += 2 * self.KEYS
        tally["setdefault"] += self.KEYS
        tally["pop"] += self.KEYS
        tally["update_pair"] += self.KEYS
        tally["ior_pair"] += self.KEYS
        with lock:                                     # inserts and deletes
            for j, k in enumerate(keys[:4]):
                total += c.setdefault(k + ".s", j)
                total += c.pop(k + ".s")
                c.update({k + ".u": j, k + ".v": j + 1})
                c |= {k + ".u": j + 2}
                total += c[k + ".u"] + c[k + ".v"]
                del c[k + ".u"]
                del c[k + ".v"]
        tally["setdefault"] += 4
        tally["pop"] += 4
        tally["update_pair"] += 2 * 4
        tally["ior_pair"] += 4
        tally["getitem"] += 2 * 4
        tally["delitem"] += 2 * 4
        for j in range(self.SHARED):                   # read-shared by every worker
            total += c[f"shared.{j}"]
        tally["getitem"] += self.SHARED
        own = self.make()                              # made and used by this thread alone
        for j, k in enumerate(keys):
            own[k] = j
            own[k] += c[k]
        total += len(own) + sum(own.values())
        own.clear()
        tally["made"] += 1
        tally["setitem"] += 2 * self.KEYS
        tally["getitem"] += 2 * self.KEYS
        tally.update(("len", "values", "clear"))
        return total

    def counted(self, c, tally):
        c["counter"] += 1
        tally["getitem"] += 1
        tally["setitem"] += 1

    def locked(self, c, rnd, tally):
        n = len(c)
        keys = list(c)
        values = list(c.values())
        items = list(c.items())
        backwards = list(reversed(c))
        view = list(c.keys())
        c.copy()
        same = c == dict(items)
        text = repr(c)
        c | {}
        tally["made"] += 2
        key, value = c.popitem()
        c[key] = value                                 # back where it was: the last key
        c.clear()
        c.update(items)                                # every pair back, in order
        tally.update(("len", "list", "values", "items", "reversed", "keys", "copy", "eq",
                      "repr", "or", "popitem", "setitem", "clear"))
        tally["update_pair"] += len(items)
        assert same and backwards == keys[::-1] and view == keys and n == len(values)
        return _crc((sorted(items), len(text)))

    def publish(self, c, rnd, tally):
        for j in range(self.SHARED):
            c[f"shared.{j}"] = rnd * 10 + j
        tally["setitem"] += self.SHARED

    def racy(self, c, worker, tally):
        if worker == 0:
            c["racy.rw"] = 1                           # RACE: read/write
            tally["setitem"] += 1
        else:
            c.get("racy.rw")                           # RACE: read/write
            tally["get"] += 1
        c["racy.ww"] = 1                               # RACE: write/write
        tally["setitem"] += 1
        if worker == 1:
            c["racy.inserted"] = 1                     # RACE: keys
            tally["setitem"] += 1
        elif worker == 2:
            len(c)                                     # RACE: keys
            tally["len"] += 1

    def final(self, c, tally):
        items = sorted(c.items())
        tally["items"] += 1
        return f"{len(items)} keys, crc {_crc(items)}"


class ListExerciser(Exerciser):
    """Every list operation of the race model (README, "Lists and sets").

    Positions: the ones every worker reads (published each round), the shared counter, the
    lost update's, then ``KEYS`` of each part's own.  Beyond them, each part appends its
    results in every round, without a lock (appends commute: ``results.append(x)`` from
    workers is race-free), and the round's publisher cuts them off again.  Nothing that
    moves items (an insert or a removal before the end) runs outside the lock: the other
    workers' positions would shift under them, which the model reports only where a read
    depends on the length.  Reading ``items`` (``len``, a negative index...) happens under
    the lock, in the locked phase only, where no worker appends.
    """

    KEYS = 12      # a part's own positions
    SHARED = 8     # positions every worker reads in a round
    COUNTER = SHARED
    LOST = SHARED + 1

    # A checked access to one position is counted twice (the engine is entered once to
    # learn whether the access is checked, then the position is recorded), a negative index
    # once more (it reads ``items`` too); a lone thread's, once.  The workload counts each
    # as a worker makes it; prepare() and final(), in the main thread alone, use operations
    # counted the same either way.
    ACCESSES = {
        "setitem": 2, "getitem": 2, "getitem_negative": 3, "getitem_out": 2, "append": 1,
        "extend": 1, "iadd": 1, "insert": 2, "pop_at": 2, "pop": 3, "delitem": 2,
        "remove": 3, "delslice": 1, "setslice": 1, "imul": 1, "clear": 1, "sort": 1,
        "reverse": 1, "eq": 1, "lt": 1, "add": 1, "mul": 1, "slice": 1, "copy": 1,
        "list": 2, "sorted": 2, "reversed": 1, "len": 1, "bool": 1, "iter": 1,
        "contains": 1, "index": 1, "count": 1, "repr": 1, "pickle": 1, "made": 0,
    }

    def prepare(self, c, parts, tally):
        self.own = {part: self.LOST + 1 + k * self.KEYS for k, part in enumerate(parts)}
        self.size = self.LOST + 1 + len(parts) * self.KEYS
        c.extend([0] * self.size)
        self.feed = self.make()     # appended to while it is iterated (racy)
        self.feed.extend(range(3))
        self.stack = self.make()    # popped by every worker at once (racy)
        self.stack.extend(range(len(parts)))
        tally["extend"] += 3
        tally["made"] += 2

    def private(self, c, part, rnd, lock, tally):
        total = 0
        base = self.own[part]
        for j in range(self.KEYS):                     # its own positions
            i = base + j
            c[i] = rnd * 1000 + j
            total += c[i]
            c[i] += 1
            total += c[i]
        tally["setitem"] += 2 * self.KEYS
        tally["getitem"] += 3 * self.KEYS
        for j in range(self.SHARED):                   # read-shared by every worker
            total += c[j]
        tally["getitem"] += self.SHARED
        seed = _crc((part, rnd)) % 1000                # results: appended, no lock
        c.append(seed)
        c.extend((seed + 1, seed + 2))
        c += (seed + 3,)
        tally.update(("append", "extend", "iadd"))
        own = self.make()                              # made and used by this thread alone
        own.extend(range(self.KEYS))
        own.insert(0, -1)
        own.insert(3, -2)
        total += own.pop(0) + own.pop() + own.pop(2) + own[-1] + own[0]
        own.append(total % 7)
        own.remove(total % 7)
        del own[1]
        own[1:3] = (5, 6)
        own.sort()
        own.reverse()
        own *= 1
        total += len(own) + sum(own) + own.index(5) + own.count(6) + (6 in own)
        total += len(own[2:]) + len(own.copy()) + len(own + [0]) + len(own * 2)
        own.clear()
        tally["made"] += 5
        tally["len"] += 5
        tally.update(("extend", "insert", "insert", "pop_at", "pop", "pop_at",
                      "getitem_negative", "getitem", "append", "remove", "delitem",
                      "setslice", "sort", "reverse", "imul", "iter", "index", "count",
                      "contains", "slice", "copy", "add", "mul", "clear"))
        return total

    def counted(self, c, tally):
        c[self.COUNTER] += 1
        tally["getitem"] += 1
        tally["setitem"] += 1

    def locked(self, c, rnd, tally):
        n = len(c)
        assert c                                       # bool
        items = list(c)                                # the results in the order they came
        results = sorted(c[self.size:])                # ... and in an order that is always
        backwards = list(reversed(c))                  # the same
        whole = c[:]
        found = (c.index(items[0]), c.count(items[0]), items[0] in c, sum(c))
        same = c == items and c < items + [0]
        text = repr(c)
        c + []
        c * 1
        c.copy()
        again = pickle.loads(pickle.dumps(c))
        last, first_out = c[-1], None
        try:
            c[n]
        except IndexError as exc:
            first_out = type(exc).__name__
        tally["made"] += 5
        tally.update(("len", "bool", "list", "slice", "sorted", "reversed", "slice", "index",
                      "count", "contains", "iter", "eq", "lt", "repr", "add", "mul", "copy",
                      "pickle", "getitem_negative", "getitem_out"))
        c.sort()                                       # what rewrites everything, undone
        c[:] = items
        c.reverse()
        c.reverse()
        c.insert(0, -1)                                # what moves items, undone
        c.pop(0)
        c.insert(self.SHARED, -1)
        del c[self.SHARED]
        c.append(-2)
        c.remove(-2)
        c.append(-3)
        c.pop()
        c *= 1
        del c[n:]
        c.clear()
        c += items
        tally.update(("sort", "setslice", "reverse", "reverse", "insert", "pop_at", "insert",
                      "delitem", "append", "remove", "append", "pop", "imul", "delslice",
                      "clear", "iadd"))
        assert same and backwards == items[::-1] and whole == items == again
        assert last == items[-1] and first_out == "IndexError" and c == items
        tally["eq"] += 2                               # whole's and c's
        return _crc((items[:self.size], results, found, len(text)))

    def publish(self, c, rnd, tally):
        del c[self.size:]                              # this round's results
        for j in range(self.SHARED):
            c[j] = rnd * 10 + j
        tally["delslice"] += 1
        tally["setitem"] += self.SHARED

    def racy(self, c, worker, tally):
        c[self.LOST] += 1                              # RACE: lost-update
        tally["getitem"] += 1
        tally["setitem"] += 1
        if worker == 0:
            self.feed.append(worker)                   # RACE: iterate-append
            tally["append"] += 1
        else:
            for _ in self.feed:                        # RACE: iterate-append
                pass
            tally["iter"] += 1
        self.stack.pop()                               # RACE: pop-pop
        tally["pop"] += 1

    def final(self, c, tally):
        items = list(c)
        del items[self.LOST]                           # its value is the lost update's
        tally.update(("list", "len", "len"))
        return (f"{len(items) + 1} items, crc {_crc(items)}; {len(self.feed)} fed, "
                f"{len(self.stack)} stacked")


class SetExerciser(Exerciser):
    """Every set operation of the race model (README, "Lists and sets").

    Elements: each part's own, which it adds, removes and looks up without a lock (two
    threads changing the membership of different elements commute); the ones every worker
    looks up, which the round's publisher adds or discards; the counter, an element that
    names its value, replaced under the lock.  Reading ``members`` (``len``, iteration,
    set algebra) happens in the locked phase only.
    """

    KEYS = 12      # a part's own elements
    SHARED = 8     # elements every worker looks up in a round

    # An in-place operation given elements (``|=``, ``update()``, ``-=``...) is counted
    # once, and once more per element it is given (``each``), or, for ``&=``, per element
    # it removes; a lone thread's, once.  prepare() and final(), in the main thread alone,
    # use operations counted the same either way.
    ACCESSES = {
        "contains": 1, "add": 1, "discard": 1, "remove": 1, "pop": 2, "update": 1, "ior": 1,
        "difference_update": 1, "isub": 1, "symmetric_difference_update": 1, "ixor": 1,
        "intersection_update": 1, "iand": 1, "each": 1, "clear": 1, "len": 1, "bool": 1,
        "iter": 1, "sorted": 2, "list": 2, "eq": 1, "le": 1, "or": 1, "and": 1, "sub": 1,
        "xor": 1, "union": 1, "intersection": 1, "difference": 1,
        "symmetric_difference": 1, "issubset": 1, "issuperset": 1, "isdisjoint": 1,
        "copy": 1, "repr": 1, "pickle": 1, "made": 0,
    }

    def prepare(self, c, parts, tally):
        for j in range(0, self.SHARED, 2):             # round 0's shared elements
            c.add(f"shared.{j}")
        c.add("racy.ww")
        self.count = 0
        c.add("counter.0")
        self.seen = self.make()                        # a "seen" filter (racy)
        tally["add"] += self.SHARED // 2 + 2
        tally["made"] += 1

    def private(self, c, part, rnd, lock, tally):
        total = 0
        for j in range(self.KEYS):
            x = f"{part}.{j}"
            if rnd == 0:
                c.add(x)                               # new: updates members
                tally["add"] += 1
            total += (x in c) + 2 * (x + ".missing" in c)
            c.add(x)                                   # there already: writes x only
            c.discard(x + ".missing")                  # absent: reads x + ".missing"
            c.remove(x)
            c.add(x)
            c.discard(x)
            c |= {x}
            c.update((x, x + ".u"))
            c.difference_update((x + ".u",))
            c -= {x + ".v"}
            c.symmetric_difference_update((x + ".t",))
            c ^= {x + ".t"}
            total += x in c
        tally["contains"] += 3 * self.KEYS
        tally["add"] += 2 * self.KEYS
        tally["discard"] += 2 * self.KEYS
        tally["remove"] += self.KEYS
        tally.update(dict.fromkeys(("ior", "update", "difference_update", "isub",
                                    "symmetric_difference_update", "ixor"), self.KEYS))
        tally["each"] += 7 * self.KEYS
        for j in range(self.SHARED):                   # read-shared by every worker
            total += (f"shared.{j}" in c) << j
        tally["contains"] += self.SHARED
        own = self.make()                              # made and used by this thread alone
        for j in range(self.KEYS):
            own.add(j)
        own.discard(0)
        own.remove(1)
        own |= {part}
        own &= set(range(self.KEYS))
        total += len(own) + sum(own) + (own == set(range(2, self.KEYS)))
        total += len(own | {-1}) + len(own - {2}) + own.isdisjoint({-1})
        own.pop()
        own.clear()
        tally["made"] += 3
        tally["add"] += self.KEYS
        tally["len"] += 3
        tally.update(("discard", "remove", "ior", "each", "iand", "each", "iter", "eq", "or",
                      "sub", "isdisjoint", "pop", "clear"))
        return total

    def counted(self, c, tally):
        c.discard(f"counter.{self.count}")
        self.count += 1
        c.add(f"counter.{self.count}")
        tally.update(("discard", "add"))

    def locked(self, c, rnd, tally):
        n = len(c)
        assert c                                       # bool
        items = sorted(c)
        listed = list(c)
        for _ in c:
            pass
        plain = set(items)
        same = (c == plain, c <= plain, c.issubset(items), c.issuperset(()),
                c.isdisjoint(("absent",)))
        algebra = (c | {"x"}, c & {items[0]}, c - {items[0]}, c ^ {"x"}, c.union(("x",)),
                   c.intersection(items[:1]), c.difference(items[1:]),
                   c.symmetric_difference(("x",)), c.copy())
        text = repr(c)
        again = pickle.loads(pickle.dumps(c))
        tally["made"] += 9
        tally.update(("len", "bool", "sorted", "list", "iter", "eq", "le", "issubset",
                      "issuperset", "isdisjoint", "or", "and", "sub", "xor", "union",
                      "intersection", "difference", "symmetric_difference", "copy", "repr",
                      "pickle"))
        taken = c.pop()                                # each write undone
        c.add(taken)
        c.intersection_update(items)                   # nothing goes
        c &= set(items[1:])                            # one goes
        c.add(items[0])
        c.clear()
        c.update(items)
        tally.update(("pop", "add", "intersection_update", "iand", "each", "add", "clear",
                      "update"))
        tally["each"] += n
        assert all(same) and again == plain and len(listed) == n and c == plain
        tally["eq"] += 1
        tally["sorted"] += len(algebra)
        return _crc((items, [sorted(s) for s in algebra], len(text)))

    def publish(self, c, rnd, tally):
        for j in range(self.SHARED):
            if (rnd + j) % 2 == 0:
                c.add(f"shared.{j}")
                tally["add"] += 1
            else:
                c.discard(f"shared.{j}")
                tally["discard"] += 1

    def racy(self, c, worker, tally):
        c.add("racy.ww")                               # RACE: write/write
        tally["add"] += 1
        present = "racy.seen" in self.seen             # RACE: check-then-add
        tally["contains"] += 1
        if worker == 0 and not present:                # one worker adds what all look for
            self.seen.add("racy.seen")                 # RACE: check-then-add
            tally["add"] += 1
        if worker == 1:
            c.add("racy.new")                          # RACE: members
            tally["add"] += 1
        elif worker == 2:
            len(c)                                     # RACE: members
            tally["len"] += 1

    def final(self, c, tally):
        items = sorted(c)
        tally.update(("sorted", "len"))
        return f"{len(items)} elements, crc {_crc(items)}; {len(self.seen)} seen"


# The attributes' exerciser is made of code that racewatch instruments (see its module); it
# builds on Exerciser, above.
from stress_objects import ObjectExerciser  # noqa: E402

EXERCISERS = {"dict": DictExerciser, "list": ListExerciser, "set": SetExerciser,
              "object": ObjectExerciser}


def run(make, kind: str, threads: int, rounds: int, children: int = 2) -> None:
    """The workload, on containers that ``make()`` makes (tracked: ``make`` comes from
    instrumented code)."""
    ex = EXERCISERS[kind](make)
    container = make()
    main_tally = Counter(made=1)
    ex.prepare(container, [f"w{w}" for w in range(threads)]
               + [f"child{w}.{i}" for w in range(threads) for i in range(children)],
               main_tally)
    tallies = [Counter() for _ in range(threads)]
    sums = [0] * threads
    barrier = threading.Barrier(threads, timeout=TIMEOUT)
    shared_lock = threading.Lock()
    events = [threading.Event() for _ in range(rounds)]
    permits = threading.Semaphore(0)
    items = queue.Queue()
    failures = []

    def child(worker: int, rnd: int, i: int, tally: Counter, out: list) -> None:
        out.append(ex.private(container, f"child{worker}.{i}", rnd, shared_lock, tally))

    def signal(worker: int, rnd: int) -> None:
        event = events[rnd]
        if worker == rnd % threads:
            for _ in range(SIGNALS):
                event.set()
        elif not event.wait(TIMEOUT):
            raise TimeoutError("an Event was never set")
        for _ in range(SIGNALS):
            event.is_set()
        permits.release()
        if not permits.acquire(timeout=TIMEOUT):
            raise TimeoutError("no Semaphore permit")
        items.put(worker)
        items.get(timeout=TIMEOUT)

    def work(worker: int) -> None:
        tally = tallies[worker]
        own_lock, own_rlock = threading.Lock(), threading.RLock()
        try:
            barrier.wait()
            for rnd in range(rounds):
                with own_rlock, own_rlock:
                    sums[worker] += ex.private(container, f"w{worker}", rnd, shared_lock,
                                               tally)
                with shared_lock:
                    ex.counted(container, tally)
                out, kids, kid_tallies = [], [], []
                for i in range(children):
                    kid_tally = Counter()
                    kid_tallies.append(kid_tally)
                    kids.append(threading.Thread(target=child,
                                                 args=(worker, rnd, i, kid_tally, out)))
                for t in kids:
                    t.start()
                for t in kids:
                    t.join(TIMEOUT)
                    if t.is_alive():
                        raise TimeoutError("a churn thread did not end")
                for kid_tally in kid_tallies:
                    tally.update(kid_tally)
                with own_lock:
                    sums[worker] += sum(out)
                signal(worker, rnd)
                barrier.wait()
                with shared_lock:
                    sums[worker] += ex.locked(container, rnd, tally)
                barrier.wait()
                if worker == rnd % threads:
                    ex.publish(container, rnd + 1, tally)
                barrier.wait()
            ex.racy(container, worker, tally)
        except BaseException as exc:  # noqa: BLE001 -- reported by the main thread
            failures.append(f"worker {worker}: {exc!r}")
            barrier.abort()

    workers = [threading.Thread(target=work, args=(w,), name=f"worker-{w}")
               for w in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join(TIMEOUT * 4)
        if t.is_alive():
            print("hang: a worker did not end", file=sys.stderr)
            sys.stderr.flush()
            import os

            os._exit(3)
    if failures:
        raise SystemExit("; ".join(failures))
    final = ex.final(container, main_tally)
    total = Counter(main_tally)
    for tally in tallies:
        total.update(tally)
    print(f"{kind}: {threads} workers, {rounds} rounds, {threads * rounds * children} "
          f"churn threads")
    print("checksums:", sums)
    print("final:", final)
    print("operations:", dict(sorted(total.items())))
    costs = dict(ex.ACCESSES)
    print("accesses:", sum(n * costs[op] for op, n in total.items()))
    print("threads:", 1 + threads + threads * rounds * children)
    print("containers:", total["made"])
