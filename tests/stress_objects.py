"""The parallel stress workload's attributes (tests/stress_harness.py): its exerciser and the
classes whose instances it shares.

Unlike the harness, this module is instrumented (the stress runs name it with
``--include``): racewatch watches the attributes of instances of classes that instrumented
code defines, and checks only the accesses that instrumented code makes.  So it makes no
list, set or dict of its own (a display here would be a tracked container, with accesses of
its own to count): whatever needs one is done by the harness's plain code.

Locations: the shared ``Board``'s attributes, named after the part that owns them and set,
read and deleted with ``setattr``, ``getattr``, ``hasattr`` and ``delattr`` without a
lock (an object has no location for its set of attributes: adding one is a write of that
attribute only); a ``Cell`` (``__slots__``) per part, kept on the board, that the part's
thread of each round updates with ``cell.value += j`` (the threads that run a churn part
change from round to round, ordered by start and join); the attributes every worker reads
(published each round); the class attribute ``limit`` read through the board; the
counter, under the lock.  Each thread also makes and uses objects of its own (a dataclass
and a board).  ``vars()``, ``__dict__`` and ``dir()``, which read every attribute, run in
the locked phase only.

Before a second thread runs, racewatch leaves classes as they are (README, "Compatibility"):
``prepare``'s accesses, made by the main thread alone, are not counted.  ``final``'s are:
the classes stay hooked once threads have run.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from stress_harness import Exerciser, _crc, int_attributes

KEYS = 12      # a part's own attributes
SHARED = 8     # attributes every worker reads in a round


class Board:
    limit = 10   # a plain value of the class: read through an instance, it is the class's

    def __init__(self):
        self.counter = 0
        self.hits = 0
        self.conn = None


class Cell:
    __slots__ = ("value", "seen")

    def __init__(self, value):
        self.value = value
        self.seen = 0


@dataclass
class Point:
    x: int
    y: int


class ObjectExerciser(Exerciser):
    """Every attribute operation of the race model (README, "Attributes").

    Its methods touch no attribute of ``self``: those would be accesses of instrumented code
    too.
    """

    # Pairs, not a dict: a dict made here would be a tracked one.
    ACCESSES = (
        ("getattr", 1), ("setattr", 1), ("delattr", 1), ("vars", 1), ("dir", 1),
        ("copy", 0),       # copy.copy reads the attributes in the copy module's code, unseen
        ("board", 3), ("cell", 2), ("point", 2),  # what their __init__ sets
        ("unwatched", 0),  # the main thread's, before a second thread runs
        ("made", 0),
    )

    def prepare(self, c, parts, tally):
        for j in range(SHARED):
            setattr(c, f"shared.{j}", j)
        tally["unwatched"] += SHARED

    def private(self, c, part, rnd, lock, tally):
        total = 0
        cell = getattr(c, f"{part}.cell", None)        # missing in round 0: still a read
        tally["getattr"] += 1
        if cell is None:
            cell = Cell(0)
            setattr(c, f"{part}.cell", cell)
            tally.update(("cell", "setattr"))
        for j in range(KEYS):
            name = f"{part}.{j}"
            setattr(c, name, rnd * 1000 + j)
            total += getattr(c, name) + getattr(c, name + ".missing", 1)
            total += hasattr(c, name) + 2 * hasattr(c, name + ".missing")
            setattr(c, name + ".tmp", j)
            delattr(c, name + ".tmp")
            cell.value += j
            cell.seen = rnd
            total += cell.value
        tally["setattr"] += 4 * KEYS
        tally["getattr"] += 6 * KEYS
        tally["delattr"] += KEYS
        total += c.limit                               # the class's
        for j in range(SHARED):                        # read-shared by every worker
            total += getattr(c, f"shared.{j}")
        tally["getattr"] += 1 + SHARED
        point = Point(rnd, len(part))                  # made and used by this thread alone
        point.x += point.y
        total += point.x + vars(point)["y"]
        own = Board()
        own.hits += 1
        own.conn = part
        del own.counter
        total += own.hits + len(own.conn) + hasattr(own, "counter") + own.limit
        copy.copy(own)
        total += len(dir(own))
        tally.update(("point", "board", "vars", "copy", "dir", "delattr"))
        tally["getattr"] += 8
        tally["setattr"] += 3
        tally["made"] += 2
        return total

    def counted(self, c, tally):
        c.counter += 1
        tally.update(("getattr", "setattr"))

    def locked(self, c, rnd, tally):
        attrs = vars(c)
        same = c.__dict__ is attrs
        names = dir(c)
        twin = copy.copy(c)
        limit = Board.limit
        missing = getattr(c, "absent", None)
        counter = c.counter                            # deleted and set again
        del c.counter
        c.counter = counter
        tally.update(("vars", "vars", "dir", "copy", "getattr", "getattr", "getattr",
                      "delattr", "setattr"))
        assert same and missing is None and twin is not c and limit == 10
        return _crc((int_attributes(attrs), len(names), counter))

    def publish(self, c, rnd, tally):
        for j in range(SHARED):
            setattr(c, f"shared.{j}", rnd * 10 + j)
        tally["setattr"] += SHARED

    def racy(self, c, worker, tally):
        c.hits += 1                                    # RACE: lost-update
        tally.update(("getattr", "setattr"))
        if c.conn is None and worker == 0:             # RACE: check-then-act
            c.conn = "connected"                       # RACE: check-then-act
            tally["setattr"] += 1
        tally["getattr"] += 1
        if worker == 1:
            Board.limit = 20                           # RACE: class-attribute
            tally["setattr"] += 1
        else:
            assert c.limit in (10, 20)                 # RACE: class-attribute
            tally["getattr"] += 1

    def final(self, c, tally):
        attrs = vars(c)
        tally.update(("vars", "getattr", "getattr"))
        return (f"{len(attrs)} attributes, crc {_crc(int_attributes(attrs, 'hits'))}; "
                f"{c.conn}, limit {c.limit}")
