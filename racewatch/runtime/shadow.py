"""Shadow state of a tracked dict and the FastTrack rules that check each access.

Each tracked dict owns one ``Shadow`` (held in a slot of the dict itself, so it is freed
with the dict and can never be confused with another dict at a reused address).  The
shadow has one location per key and one ``keys`` location (the set of keys, its size and
order), as SPEC section 2 sets out.

An insert or delete is an *update* of the ``keys`` location: it conflicts with a read of
``keys`` (``len``, iteration...) and with a write of it (``clear``), but not with another
update, since every dict operation is atomic on every CPython and two threads inserting
different keys only change the order of the keys.  So ``keys`` keeps, beside its last
write and its reads, its updates since that write: per thread slot, the latest update and
the key it touched.  With ``report_key_order=1`` an update is a write (for programs that
rely on the order of insertion across threads).

A location (a ``Loc``) keeps its last write as an ``Access`` record (an epoch: slot and
clock, plus the stack, operation and locks to report it with) and its reads since that
write: one ``Access`` while a single thread reads, a ``{slot: Access}`` map once reads are
shared (FastTrack's adaptive read representation).

Operations that read every key (``items()``, ``==``, ``repr``...) do not touch every
location: the shadow keeps, per thread slot, the latest write to any key (``wsum``) and a
dict-wide read set (``allr``) that every write also checks.  When no write of another thread
is unordered with the read (the summary says so in O(threads): a slot's latest write is
ordered before the reader only if all of that slot's writes are), that is all.  When one
is, every location is looked at, so that each key that races is reported, not only the
latest one of each thread.

Concurrency: the fast path (an access in an epoch already recorded for the location)
reads without a lock: only the accessing thread can create records of its own epoch, and
reading a reference is atomic also without the GIL.  Everything else runs under the
shadow's lock, one of a fixed set of striped locks, so the detector's state stays whole
whatever the interpreter does between two bytecodes, with or without the GIL.  No code of
the program runs under that lock: a key's ``__hash__`` and ``__eq__`` run when its
location is looked up (or made) in ``locs``, before the lock is taken, and the sweep of
departed keys asks the container and deletes locations without it (a key's ``__hash__``
that takes a lock of the program, while another thread holds that lock and waits for the
shadow, could otherwise deadlock).  A location the sweep takes out while another thread
updates it loses that update: a race can then be missed, never invented.  An access made
by code that runs inside the locked part (a finalizer, a signal handler) is ignored
rather than waited for.
"""

from __future__ import annotations

import _thread
import itertools
import time
from collections import defaultdict as _defaultdict

from . import late_free, settings, stacks
from .clock import entry
from .core import COMPILED
from .settings import SETTINGS
from .threads import RECENT, ThreadRegistry, ThreadState

REGISTRY = ThreadRegistry()

_monotonic_ns = time.monotonic_ns
_BUDGET_MASK = 4095  # budget.CHECK_EVERY - 1: read the memory every 4096 accesses
_dict_contains = dict.__contains__
_dict_keys = dict.keys
_dict_len = dict.__len__
_list_len = list.__len__
_set_len = set.__len__
_set_contains = set.__contains__
_set_iter = set.__iter__
_capture = stacks.capture
_current = REGISTRY.current

_STRIPES = tuple(_thread.allocate_lock() for _ in range(64))
_serials = itertools.count(1)
_attach_lock = _thread.RLock()  # re-entrant: a signal handler may attach one meanwhile


class Access:
    """One recorded access: its epoch, where it happened, what it did, the locks held."""

    __slots__ = ("slot", "clock", "thread", "stack", "op", "write", "locks", "time")

    def __init__(self, ts: ThreadState, stack, op: str, write: bool):
        self.time = _monotonic_ns()  # the first access this record stands for
        self.slot = ts.slot
        self.clock = ts.clock
        self.thread = ts.info
        self.stack = stack
        self.op = op
        self.write = write
        self.locks = ts.held


class Loc:
    """A location that has been read: its last write (or None) and its reads since."""

    __slots__ = ("w", "r")

    def __init__(self, w, r):
        self.w = w
        self.r = r


class KeysLoc(Loc):
    """The ``keys`` location: its last write (``clear``) and the key it touched, its reads,
    and its updates since that write (inserts and deletes, ``{slot: (Access, key)}``)."""

    __slots__ = ("wkey", "u")

    def __init__(self):
        super().__init__(None, None)
        self.wkey = None
        self.u = {}


KINDS = ("dict", "defaultdict", "list", "set", "object", "class", "module")
# The containers whose keys come and go, and whose departed keys are forgotten in time.
_SWEPT_KINDS = frozenset({"dict", "defaultdict", "list", "set"})
# How many new locations, at least, a sweep lets come before the next (with a smaller one,
# a sweep's own cost, the registry's clocks, is paid more often).
SWEEP_STEP = 1024


class Shadow:
    """The detector's state for one tracked container: a dict, a list, a set, an object's
    attributes or a module's globals (``kind``), each key a location."""

    __slots__ = ("lock", "locs", "keys", "allr", "wsum", "kind", "name", "created_at",
                 "serial", "sweep_at", "generation", "epoch_names")

    def __init__(self, kind: str, created_at, name=None):
        if kind not in KINDS:
            raise ValueError(f"unknown kind of shadow: {kind!r}")
        serial = next(_serials)
        self.lock = _STRIPES[serial & 63]
        self.kind = kind
        self.name = name  # an object's class name, a module's name; None for the others
        self.created_at = created_at
        self.serial = serial
        self.forget()

    def forget(self) -> None:
        """Start over with no history (a new shadow, or one inherited across a fork)."""
        self.locs = {}
        self.keys = KeysLoc()
        self.allr = None        # reads of every key: None, Access or {slot: Access}
        self.wsum = {}          # slot -> (Access, key): latest write to any key by that slot
        self.sweep_at = 1024
        self.generation = SETTINGS.generation
        self.epoch_names = None  # objects.py: the attributes one epoch accessed


class Conflict:
    """Two accesses that nothing orders, found while checking the later one."""

    __slots__ = ("shadow", "key", "on_keys", "previous_key", "current_key", "previous",
                 "current", "current_prior")

    def __init__(self, shadow, key, on_keys, previous, current, previous_key=None,
                 current_key=None, current_prior=None):
        self.shadow = shadow
        self.key = key                    # the key location (None for the keys location)
        self.on_keys = on_keys            # True for the keys location
        self.previous = previous
        self.current = current
        # For the keys location: the key each side's insert or delete touched, if any.
        self.previous_key = previous_key
        self.current_key = current_key
        # When ``current`` is a write: the current thread's own read of the location in the
        # same epoch (nothing released between the two), as the write's check found it in
        # the read set it replaces; else None.  The check of a check-then-act, the read of
        # a read-modify-write: what the report needs to say which kind of bug it is.
        self.current_prior = current_prior


def shadow_of(d) -> Shadow | None:
    """The shadow of tracked container ``d`` (a dict, list or set), made on first use; None
    when ``d`` is not tracked.

    Until its first checked access a tracked container's slot holds only its creation
    stack: containers that never meet a second thread (most of them) never pay for a
    shadow.
    """
    try:
        sh = d._rw_shadow
    except AttributeError:  # built without ``track`` (``type(d)()`` in library code)
        sh = stacks.EMPTY_STACK
    if type(sh) is Shadow or sh is None:
        return sh
    # Made before the lock is taken (making it may collect garbage, and so run finalizers
    # that make and share dicts of their own), then published under it.
    made = None
    if SETTINGS.tracking:
        made = Shadow(_kind_of(d), sh)
    with _attach_lock:
        try:
            sh = d._rw_shadow
        except AttributeError:
            sh = stacks.EMPTY_STACK
        if type(sh) is not Shadow and sh is not None:
            # (None: the memory budget was spent before this dict was first shared.)
            sh = made if made is None or made.created_at is sh else Shadow(made.kind, sh)
            d._rw_shadow = sh
        return sh


def _kind_of(d) -> str:
    """The kind of shadow a tracked container gets."""
    if isinstance(d, list):
        return "list"
    if isinstance(d, set):
        return "set"
    return "defaultdict" if isinstance(d, _defaultdict) else "dict"


def _make_access(ts: ThreadState, op: str, write: bool) -> Access:
    replay = ts.replay
    if replay is not None:
        # A deferred read, recorded now: its own stack, locks and time (objects.py).
        rec = Access(ts, replay[0], op, write)
        rec.locks = replay[1]
        rec.time = replay[2]
        return rec
    stack = _capture(SETTINGS.stack_depth)
    recent = ts.recent
    for last in recent:
        if (last.stack is stack and last.clock == ts.clock and last.op is op
                and last.write is write and last.locks is ts.held):
            return last
    rec = Access(ts, stack, op, write)
    # Newest first, at most RECENT (the compiled core keeps a ring of as many).
    recent.insert(0, rec)
    if len(recent) > RECENT:
        recent.pop()
    return rec


def _covered(rec: Access, vc) -> bool:
    """True when ``rec`` happened before the thread whose clock is ``vc``."""
    s = rec.slot
    return s < len(vc) and rec.clock <= vc[s]


def _unordered_reads(r, vc):
    """The reads in read set ``r`` that are not ordered before clock ``vc``."""
    if r is None:
        return ()
    if type(r) is Access:
        return () if _covered(r, vc) else (r,)
    return [a for a in r.values() if not _covered(a, vc)]


def _add_read(r, cur: Access, vc):
    """Read set ``r`` with ``cur`` added (FastTrack's exclusive/shared read rules)."""
    if r is None:
        return cur
    if type(r) is Access:
        if r.slot == cur.slot or _covered(r, vc):
            return cur
        return {r.slot: r, cur.slot: cur}
    r[cur.slot] = cur
    return r


def _own_read(r, cur: Access):
    """The read in read set ``r`` that ``cur``'s thread made in ``cur``'s epoch, or None."""
    if r is None:
        return None
    a = r if type(r) is Access else r.get(cur.slot)
    if a is not None and a.slot == cur.slot and a.clock == cur.clock:
        return a
    return None


def _same_epoch_read(r, ts: ThreadState) -> bool:
    if r is None:
        return False
    if type(r) is Access:
        return r.clock == ts.clock and r.slot == ts.slot
    a = r.get(ts.slot)
    return a is not None and a.clock == ts.clock


def enter_thread() -> ThreadState | None:
    """The calling thread's state when its access is to be checked, else None (the
    detector is off, racewatch's own code runs, an ignored block, the lone thread)."""
    if not SETTINGS.enabled:
        return None
    ts = _current()
    if ts.busy or ts.ignoring:
        return None
    ts.accesses += 1
    if not ts.accesses & _BUDGET_MASK and SETTINGS.budget is not None:
        SETTINGS.budget.check()
    if ts is REGISTRY.solo:
        # The only live thread, ordered after every finished one: this access can race
        # with nothing now, and every thread started later inherits this thread's clock.
        return None
    if ts.pending:
        ts.settle()  # the first access after a lock's release: a new epoch (sync.py)
    return ts


def fresh(sh: Shadow) -> Shadow:
    """``sh``, forgetting the history of its parent process in a forked child."""
    if sh.generation != SETTINGS.generation:
        with sh.lock:
            if sh.generation != SETTINGS.generation:
                sh.forget()
    return sh


def _enter(d):
    """(thread state, shadow) when this access is to be checked, else None."""
    ts = enter_thread()
    if ts is None:
        return None
    try:
        sh = d._rw_shadow
    except AttributeError:
        sh = None
    if type(sh) is not Shadow:
        sh = shadow_of(d)
        if sh is None:
            return None
    return ts, fresh(sh)


# -- the accesses ------------------------------------------------------------------------


def on_read(d, key, op: str) -> None:
    """A read of ``key`` (present or not)."""
    entered = _enter(d)
    if entered is not None:
        read(*entered, key, op, d)


def _location(sh: Shadow, key, loc=None) -> Loc | None:
    """The location of ``key`` (``loc`` if the caller looked it up already), made if new;
    None when the key is unhashable (the operation raises that itself) or the memory budget
    is spent.  The key's ``__hash__`` and ``__eq__`` run here, under no lock of racewatch's."""
    if loc is not None:
        return loc
    try:
        loc = sh.locs.get(key)
        if loc is None and SETTINGS.tracking:
            loc = sh.locs.setdefault(key, Loc(None, None))
    except Exception:
        return None
    return loc


def read(ts: ThreadState, sh: Shadow, key, op: str, d=None) -> None:
    """A read of location ``key`` of ``sh`` by ``ts`` (``enter_thread`` said to check it);
    ``d``, the container, when its departed keys are to be swept (a read of a missing key
    makes a location too)."""
    try:
        loc = sh.locs.get(key)
    except Exception:  # unhashable key: the dict operation raises the same error
        return
    if loc is not None:
        if _same_epoch_read(loc.r, ts):
            return
        w = loc.w
        if w is not None and w.clock == ts.clock and w.slot == ts.slot:
            return  # read after this thread's own write in this epoch
    loc = _location(sh, key, loc)
    if loc is None:
        return
    cur = _make_access(ts, op, False)
    conflicts = None
    vc = ts.vc
    sweep = False
    ts.busy += 1
    try:
        with sh.lock:
            w = loc.w
            if w is not None and not _covered(w, vc):
                conflicts = [Conflict(sh, key, False, w, cur)]
            loc.r = _add_read(loc.r, cur, vc)
            if d is not None and len(sh.locs) > sh.sweep_at and sh.kind in _SWEPT_KINDS:
                sh.sweep_at = 1 << 62  # this thread sweeps, no other meanwhile
                sweep = True
        if sweep:
            _sweep(sh, d)
    finally:
        ts.busy -= 1
    _remember_read(ts, sh, key, cur)
    if conflicts:
        _emit(conflicts, ts)


def _remember_read(ts: ThreadState, sh: Shadow, key, cur: Access) -> None:
    """Remember ``cur``, a read of ``key`` of ``sh`` just recorded, when the key is a str or
    an int (its equality runs no code of the program's, and nobody can see it kept alive):
    a write of the key in the same epoch follows this read, for the race's pattern, even
    when another thread's write took the read out of the location meanwhile."""
    if type(key) is str or type(key) is int:
        ts.last_read = (sh.serial, key, cur)  # (the serial: the shadow is not kept alive)


def _remembered_read(ts: ThreadState, sh: Shadow, key, cur: Access) -> Access | None:
    """The thread's last read when it is of ``key`` of ``sh`` in ``cur``'s epoch, or None:
    a write's own read when its location no longer holds it (the pattern of a lost update,
    or of a check-then-act, whose read another thread's write followed)."""
    last = ts.last_read
    if last is None:
        return None
    serial, seen_key, rec = last
    if serial != sh.serial or rec.clock != cur.clock or rec.slot != cur.slot:
        return None
    if seen_key is key or (type(seen_key) is type(key) and seen_key == key):
        return rec
    return None


def on_write(d, key, op: str, keys_change: bool) -> None:
    """A write of ``key``; ``keys_change`` when it inserts or deletes the key."""
    entered = _enter(d)
    if entered is not None:
        write(*entered, d, key, op, keys_change)


def write(ts: ThreadState, sh: Shadow, d, key, op: str, keys_change: bool = False) -> None:
    """A write of location ``key`` of ``sh`` (container ``d``) by ``ts``; ``keys_change``
    when it inserts or deletes the key (an update of the whole location)."""
    try:
        loc = sh.locs.get(key)
    except Exception:
        return
    if not keys_change and loc is not None:
        w = loc.w
        if w is not None and w.clock == ts.clock and w.slot == ts.slot:
            return
    loc = _location(sh, key, loc)
    cur = _make_access(ts, op, True)
    vc = ts.vc
    sweep = False
    ts.busy += 1
    try:
        with sh.lock:
            conflicts = []
            if loc is not None:
                _check_write(sh, key, loc, cur, vc, conflicts,
                             _remembered_read(ts, sh, key, cur))
            if keys_change:
                _update_keys(sh, key, cur, vc, conflicts)
                if len(sh.locs) > sh.sweep_at and sh.kind in _SWEPT_KINDS:
                    sh.sweep_at = 1 << 62  # this thread sweeps, no other meanwhile
                    sweep = True
        if sweep:
            _sweep(sh, d)
    finally:
        ts.busy -= 1
    if conflicts:
        _emit(conflicts, ts)


def on_keys_read(d, op: str) -> None:
    """A read of the set of keys only: ``len``, ``iter``, ``keys()``..."""
    entered = _enter(d)
    if entered is None:
        return
    ts, sh = entered
    keys = sh.keys
    if _same_epoch_read(keys.r, ts):
        return
    w = keys.w
    if w is not None and w.clock == ts.clock and w.slot == ts.slot:
        return
    cur = _make_access(ts, op, False)
    vc = ts.vc
    conflicts = []
    ts.busy += 1
    try:
        with sh.lock:
            _read_keys(sh, cur, vc, conflicts)
    finally:
        ts.busy -= 1
    if conflicts:
        _emit(conflicts, ts)


def on_read_all(d, op: str) -> None:
    """A read of the set of keys and of every key: ``items()``, ``==``, ``repr``..."""
    entered = _enter(d)
    if entered is not None:
        read_all(*entered, op)


def read_all(ts: ThreadState, sh: Shadow, op: str) -> None:
    """A read of the whole location of ``sh`` and of every key location."""
    if _same_epoch_read(sh.allr, ts) and _same_epoch_read(sh.keys.r, ts):
        return
    cur = _make_access(ts, op, False)
    vc = ts.vc
    conflicts = []
    ts.busy += 1
    try:
        with sh.lock:
            _read_keys(sh, cur, vc, conflicts)
            if not all(_covered(rec, vc) for rec, _ in sh.wsum.values()):
                _unordered_writes(sh, cur, vc, conflicts)
            sh.allr = _add_read(sh.allr, cur, vc)
    finally:
        ts.busy -= 1
    if conflicts:
        _emit(conflicts, ts)


def on_clear(d, op: str = "clear") -> None:
    """A write of the set of keys and of every present key."""
    entered = _enter(d)
    if entered is None:
        return
    ts, sh = entered
    cur = _make_access(ts, op, True)
    vc = ts.vc
    conflicts = []
    ts.busy += 1
    try:
        locations = [(key, _location(sh, key)) for key in _keys_now(sh, d)]
        with sh.lock:
            for key, loc in locations:
                if loc is not None:
                    _check_write(sh, key, loc, cur, vc, conflicts)
            _write_keys(sh, None, cur, vc, conflicts)
    finally:
        ts.busy -= 1
    if conflicts:
        _emit(conflicts, ts)


# -- the rules, under the shadow's lock --------------------------------------------------


def _check_write(sh: Shadow, key, loc: Loc, cur: Access, vc, conflicts: list,
                 remembered: Access | None = None) -> None:
    # This thread's own read of the key, from its reads or its reads of every key, or the
    # read it remembers (``_remembered_read``) when those no longer hold it.
    prior = _own_read(loc.r, cur)
    if prior is None:
        prior = _own_read(sh.allr, cur)
    if prior is None:
        prior = remembered
    w = loc.w
    if w is not None and not _covered(w, vc):
        conflicts.append(Conflict(sh, key, False, w, cur, None, None, prior))
    for r in _unordered_reads(loc.r, vc):
        conflicts.append(Conflict(sh, key, False, r, cur, None, None, prior))
    for r in _unordered_reads(sh.allr, vc):
        conflicts.append(Conflict(sh, key, False, r, cur, None, None, prior))
    loc.w = cur
    loc.r = None
    sh.wsum[cur.slot] = (cur, key)


def _unordered_writes(sh: Shadow, cur: Access, vc, conflicts: list) -> None:
    """A conflict for every key whose last write is not ordered before ``cur``."""
    for key, v in sh.locs.items():
        w = v if type(v) is Access else v.w
        if w is not None and not _covered(w, vc):
            conflicts.append(Conflict(sh, key, False, w, cur))


def _check_keys_write(sh: Shadow, key, cur: Access, vc, conflicts: list, prior) -> None:
    """The checks of a write of ``keys``: against its last write and its reads (``prior``:
    this thread's own read of ``keys`` in its epoch)."""
    keys = sh.keys
    w = keys.w
    if w is not None and not _covered(w, vc):
        conflicts.append(Conflict(sh, None, True, w, cur, keys.wkey, key, prior))
    for r in _unordered_reads(keys.r, vc):
        conflicts.append(Conflict(sh, None, True, r, cur, None, key, prior))


def _unordered_updates(sh: Shadow, cur: Access, vc, current_key, conflicts: list,
                       prior=None) -> None:
    for rec, key in sh.keys.u.values():
        if not _covered(rec, vc):
            conflicts.append(Conflict(sh, None, True, rec, cur, key, current_key, prior))


def _write_keys(sh: Shadow, key, cur: Access, vc, conflicts: list) -> None:
    """``clear()`` (and, with ``report_key_order``, an insert or delete)."""
    prior = _own_read(sh.keys.r, cur)
    _check_keys_write(sh, key, cur, vc, conflicts, prior)
    _unordered_updates(sh, cur, vc, key, conflicts, prior)
    keys = sh.keys
    keys.w = cur
    keys.r = None
    keys.u = {}
    keys.wkey = key


def _update_keys(sh: Shadow, key, cur: Access, vc, conflicts: list) -> None:
    """An insert or delete of ``key``: it commutes with the other updates (see above).

    Neither the reads nor the other updates are dropped: a later access that conflicts with
    one of them need not be ordered after this update.  Only an update that ``cur`` is
    ordered after is dropped: whatever is unordered with it is unordered with ``cur`` too,
    and reported there (FastTrack's rule for reads).
    """
    if SETTINGS.report_key_order:
        _write_keys(sh, key, cur, vc, conflicts)
        return
    _check_keys_write(sh, key, cur, vc, conflicts, _own_read(sh.keys.r, cur))
    u = sh.keys.u
    for slot in [s for s, (rec, _) in u.items() if s != cur.slot and _covered(rec, vc)]:
        del u[slot]
    u[cur.slot] = (cur, key)


def _read_keys(sh: Shadow, cur: Access, vc, conflicts: list) -> None:
    keys = sh.keys
    w = keys.w
    if w is not None and not _covered(w, vc):
        conflicts.append(Conflict(sh, None, True, w, cur, keys.wkey, None))
    _unordered_updates(sh, cur, vc, None, conflicts)
    keys.r = _add_read(keys.r, cur, vc)


def _ordered_before(v: Loc, minc) -> bool:
    w = v.w
    if w is not None and w.clock > entry(minc, w.slot):
        return False
    r = v.r
    if r is None:
        return True
    if type(r) is Access:
        return r.clock <= entry(minc, r.slot)
    return all(a.clock <= entry(minc, a.slot) for a in r.values())


def _sweep(sh: Shadow, d) -> None:
    """Forget absent keys, so that a dict whose keys come and go forever, or that is asked
    for ever new keys it does not hold, stays bounded.

    A deleted key keeps its location (a later ``k in d`` must be checked against the
    delete), and so does a key looked up while absent (a later insert must be checked
    against the lookup).  Once every access in the location is ordered before every live
    thread it can never race again, and the location goes.  A live thread that never
    synchronizes (a main thread blocked in ``join``, a server loop) would keep them all, so
    once the locations outnumber the container's keys by more than a budget of
    ``max(1024, len(d))``, the oldest absent keys are forgotten until they no longer do: a
    race between such an old delete or lookup and a later access to the same key can then
    be missed, never invented.  The summary counts them (``forgotten_deleted_keys``: the
    location holds a write, the delete; ``forgotten_missing_keys``: only lookups).

    The walk goes oldest first (``locs`` keeps first-insertion order) and stops once it has
    let go of that excess, so each absent key is looked at about once: the newest, kept,
    are not walked again at the next sweep.  Without an excess it walks everything and
    forgets only what is ordered.  The next runs after ``max(SWEEP_STEP, 2 * len(d))`` new
    locations: a walk costs what it lets go of and the container's keys among the oldest,
    or every location (``len(d)``, the budget and that step at most), so about two looks
    per new location at most, for at most three times the budget beyond the container's
    keys (twice for a dict of up to 512 keys).  It holds no lock of racewatch's while it
    asks the container and deletes locations (the keys' ``__eq__`` runs there); a location
    only goes if it is still the one it looked at.
    """
    minc = REGISTRY.min_clock()
    locs = sh.locs
    size = _size(sh, d)
    budget = max(1024, size)
    excess = len(locs) - size - budget
    forgotten = unordered = lookups = 0
    for key, loc in list(locs.items()):
        if 0 < excess <= forgotten:
            break
        if _contains(sh, d, key):
            continue
        ordered = _ordered_before(loc, minc)
        if (ordered or excess > 0) and _forget(locs, key, loc):
            forgotten += 1
            if not ordered:
                unordered += 1
                lookups += loc.w is None
    settings.add_to("forgotten_keys", unordered - lookups)
    settings.add_to("forgotten_lookups", lookups)
    sh.sweep_at = len(locs) + max(SWEEP_STEP, 2 * size)
    late_free.swept(len(locs))


def _forget(locs: dict, key, loc: Loc) -> bool:
    """Forget ``key``'s location if it is still ``loc``: whether it went.  One pop, as the
    key's ``__hash__`` is the program's code; one that Python code put there since the
    snapshot (a key's ``__eq__``) is put back."""
    now = locs.pop(key, None)
    if now is None or now is loc:
        return now is not None
    locs[key] = now
    return False


def _size(sh: Shadow, d) -> int:
    """The number of keys of container ``d`` (whatever its own ``__len__`` says)."""
    if sh.kind == "list":
        return _list_len(d)
    if sh.kind == "set":
        return _set_len(d)
    return _dict_len(d)


def _keys_now(sh: Shadow, d) -> list:
    """The keys of container ``d`` now, as a list (a list's keys are its indexes)."""
    if sh.kind == "list":
        return list(range(_list_len(d)))
    if sh.kind == "set":
        return list(_set_iter(d))
    return list(_dict_keys(d))


def _contains(sh: Shadow, d, key) -> bool:
    """Whether ``key`` is a key of container ``d`` now (a list's keys are its indexes)."""
    if sh.kind == "list":
        return type(key) is int and 0 <= key < _list_len(d)
    if sh.kind == "set":
        return _set_contains(d, key)
    return _dict_contains(d, key)


def reinit_locks_after_fork() -> None:
    """Another thread may have held one of these at the fork: in the child, it never lets go."""
    for lock in _STRIPES:
        lock._at_fork_reinit()
    _attach_lock._at_fork_reinit()
    if COMPILED is not None:
        COMPILED.after_fork_in_child()


def _emit(conflicts: list, ts: ThreadState) -> None:
    ts.busy += 1
    try:
        sink = SETTINGS.sink
        if sink is not None:
            for c in conflicts:
                sink(c)
    finally:
        ts.busy -= 1


if COMPILED is not None:
    # The same types and rules in C (racewatch/_core/: engine.h names the files), checked
    # without a Python frame; the registry stays here, and the compiled core calls it when a
    # thread it does not know yet makes its first access.
    Access, Loc, KeysLoc = COMPILED.Access, COMPILED.Loc, COMPILED.KeysLoc
    Shadow, Conflict = COMPILED.Shadow, COMPILED.Conflict
    shadow_of = COMPILED.shadow_of
    on_read, on_write = COMPILED.on_read, COMPILED.on_write
    on_keys_read, on_read_all = COMPILED.on_keys_read, COMPILED.on_read_all
    on_clear = COMPILED.on_clear
    COMPILED.configure(REGISTRY)

stacks.leave_out_frames_of(globals())
