"""A parallel stress workload for one tracked container, with known races and a known result.

A tiny script, instrumented, hands this module a function that makes a tracked container;
this module is imported from the tests' directory, so racewatch does not instrument it:
every container it makes for itself is a plain one, and the only tracked accesses of the
run are those it makes on purpose, to the shared container and to containers of its own
that each thread makes and uses alone.  It runs the same under plain ``python`` (the container is
then a plain one): what it prints depends on nothing the threads' interleaving decides, so
the two outputs are equal.

The workload, for ``threads`` workers and ``rounds`` rounds, each round ending at a barrier
(a happens-before edge between every pair of workers):

* private: each worker, without a lock, reads and writes locations only it touches (its
  own keys: every single-key operation), reads the locations every worker shares
  read-only this round, and, under a shared lock, inserts and deletes keys of its own and
  counts in a shared location; it also starts and joins short-lived threads that do the
  same on locations of their own (thread start and exit churn), and takes private locks;
* signals: every worker at once uses an Event (one sets it again and again while the
  others test it), a Semaphore and a Queue, so that the edges of each are recorded by
  several threads at the same time;
* locked: each worker, under one shared lock, makes every whole-container operation
  (length, iteration, copies, comparisons, ``clear``...), leaving the container as it
  found it;
* publish: one worker, alone, writes the read-only locations of the next round.

None of that is a race.  After the last round every worker makes the accesses of
``racy``, the known races: each is marked by a RACE comment with its name on its line(s)
in this file, so that a test expects exactly one race per name, between those lines.

Whether two threads that insert or delete different keys race is the model's choice (it
is one with ``report_key_order``): the workload does that under a lock only, so that its
races are the same either way.

Each worker counts, per operation, the tracked accesses it made (``ACCESSES`` says how
many accesses each operation is to the detector); the run prints their total, which must
equal the detector's own count.  Other kinds of tracked container (an object's attributes,
a list, a set) plug in as another ``Exerciser`` in ``EXERCISERS``.
"""

from __future__ import annotations

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
    ACCESSES: dict[str, int] = {}

    def __init__(self, make):
        self.make = make

    def prepare(self, c, tally: Counter) -> None:
        """In the main thread, before any worker starts."""

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

    def prepare(self, c, tally):
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


EXERCISERS = {"dict": DictExerciser}


def run(make, kind: str, threads: int, rounds: int, children: int = 2) -> None:
    """The workload, on containers that ``make()`` makes (tracked: ``make`` comes from
    instrumented code)."""
    ex = EXERCISERS[kind](make)
    container = make()
    main_tally = Counter(made=1)
    ex.prepare(container, main_tally)
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
    print("accesses:", sum(n * ex.ACCESSES[op] for op, n in total.items()))
    print("threads:", 1 + threads + threads * rounds * children)
    print("containers:", total["made"])
