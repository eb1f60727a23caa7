"""Happens-before edges: the clock operations every synchronization primitive is made of.

``release_*`` is called *before* the real release and ``acquire`` *after* the real
acquire, so the thread that gets through the primitive always finds the clock of the one
that let it through.  A sync object's clock is published as one immutable
``(clock, releaser)`` pair, so an acquire never needs a lock and never sees half a clock.
"""

from __future__ import annotations

import collections
import itertools
import time
import weakref

from . import forks, stacks
from .clock import VectorClock, entry, join_into, joined
from .core import COMPILED
from .stacks import Stack
from .threads import ThreadState

_monotonic_ns = time.monotonic_ns
_copy_dict_in_child = COMPILED.copy_dict_in_child if COMPILED is not None else None
_label_counters: dict[str, itertools.count] = collections.defaultdict(
    lambda: itertools.count(1))


def new_label(kind: str) -> str:
    """A name for a new sync object in reports: ``Event#1``, ``Queue#2``..."""
    return f"{kind}#{next(_label_counters[kind])}"


def label_counter(kind: str) -> itertools.count:
    """The numbers ``new_label(kind)`` gives, for a caller that makes many labels."""
    return _label_counters[kind]


class SyncVar:
    """The clock that a lock, event, queue item, future... carries between threads."""

    __slots__ = ("state", "label")

    def __init__(self, label: str = ""):
        self.state: tuple[VectorClock, ThreadState | None] | None = None
        self.label = label


# Guards the compare-and-store of ``release_join``; re-entrant, since a signal handler or a
# finalizer may run in the middle of a release and release the same object itself.
_join_lock = forks.lock()


RELEASE, ACQUIRE = "release", "acquire"


def note(ts: ThreadState, kind: str, label: str, direction: str,
         where: Stack | None = None) -> None:
    """Remember a sync event of ``ts`` and where it happened (by default, where the
    program is now), for the timeline of a later race."""
    ts.info.events.append((_monotonic_ns(), kind, label, direction,
                           stacks.capture(1) if where is None else where))


def release_store(sv: SyncVar, ts: ThreadState, kind: str = "release") -> None:
    """A mutex release: the next acquirer is ordered after everything ``ts`` did.

    The release ends ``ts``'s epoch, but the tick waits: ``ts`` is ``pending`` until its
    next access (``shadow.enter_thread``) or publication ticks (``ThreadState.settle``),
    unless it takes the same lock again first while nobody else took it
    (``acquire_lock``).  Then nobody has joined the epoch (it went only into this lock,
    and whoever took the lock since would have released it with a clock of its own, as
    ``sv.state`` would show), and ``ts`` goes on in it, as if it had held the lock
    throughout: a loop of ``with lock:`` by one thread that no other thread takes the lock
    from meanwhile keeps one epoch, and its accesses after the first round stay on the fast
    path.
    """
    ts.settle()
    note(ts, kind, sv.label, RELEASE)
    sv.state = (list(ts.vc), ts)
    ts.pending = True
    ts.pending_sv = sv


def release_join(sv: SyncVar, ts: ThreadState, kind: str = "release") -> None:
    """A release that adds to earlier ones (events, barriers, futures, annotations)."""
    ts.settle()
    note(ts, kind, sv.label, RELEASE)
    forks.settle()
    vc = ts.vc
    while True:
        # The join is computed outside the lock: it is Python code, and a signal handler
        # that runs in it may release ``sv`` too.  The store goes through only if nobody
        # published in between (a compare-and-store: no Python code runs under the lock).
        state = sv.state
        clock = (joined(state[0] if state is not None else None, vc), None)
        with _join_lock:
            if sv.state is state:
                sv.state = clock
                break
    ts.tick()


def acquire(sv: SyncVar, ts: ThreadState, kind: str = "acquire") -> None:
    """``ts`` is ordered after every release published in ``sv``."""
    if ts.deferred is not None:
        ts.settle()  # before the join (objects.read_pending_lock)
    note(ts, kind, sv.label, ACQUIRE)
    state = sv.state
    if state is not None and not _releaser_epoch_known(state, ts):
        join_into(ts.vc, state[0])


def acquire_lock(sv: SyncVar, ts: ThreadState, kind: str = "acquire") -> None:
    """``acquire`` for a lock (Lock, RLock: held by one thread at a time), after which
    ``ts`` goes on in the epoch it released the lock in when nobody took it meanwhile
    (``release_store``)."""
    if ts.pending and ts.pending_sv is sv:
        state = sv.state
        if state is not None and state[1] is ts and entry(state[0], ts.slot) == ts.clock:
            ts.pending = False
            ts.pending_sv = None
            ts.deferred = None  # made in this epoch, which goes on
    acquire(sv, ts, kind)


def _releaser_epoch_known(state: tuple[VectorClock, ThreadState | None],
                          ts: ThreadState) -> bool:
    """FastTrack's rule for a lock's clock: nothing to join when ``ts`` already knows the
    epoch in which the releaser published it.

    Why it is exact.  Let T, on slot r, publish L at the end of its epoch e = L[r].  Every
    publication (``release_store``, ``release_join``, ``snapshot``) ticks before T's next
    access or publication, so T publishes at most one clock per epoch that anybody joins
    (``acquire_lock`` lets T publish a lock again in the same epoch only when nobody joined
    the first), and since T's clock only grows, what it publishes later contains L.  While T
    lives no other thread has slot r, and every value >= e on slot r is T's: a thread starts
    above every value its slot ever had (``ThreadRegistry.begin``).  Clocks travel only
    through publications (an acquire joins one, a new thread starts from one) and, once T
    has ended, through its final clock (``join``), so a clock V other than T's own with
    V[r] >= e got that value by joining a clock that T published in epoch V[r] or later, or
    one that had joined it: V contains L already, and the join would change nothing.

    Once T has ended, its slot can go to a new thread whose values exceed e without its
    clock containing L (a slot reused before every thread saw its end, threads.py), so the
    clocks are then joined.  ``dead`` is set before the slot is freed, and never reset.
    A clock joined from several releases (``release_join``: no releaser) is always joined.
    """
    clock, releaser = state
    if releaser is ts:
        return True
    if releaser is None or releaser.dead:
        return False
    r = releaser.slot
    return r < len(clock) and entry(ts.vc, r) >= clock[r]


def snapshot(ts: ThreadState, kind: str, label: str) -> VectorClock:
    """A release into a single hand-over (a queue item, a permit, a thread start)."""
    ts.settle()
    note(ts, kind, label, RELEASE)
    clock = list(ts.vc)
    ts.tick()
    return clock


def acquire_clock(ts: ThreadState, clock: VectorClock | None, kind: str, label: str) -> None:
    """``ts`` is ordered after the hand-over ``clock`` (from ``snapshot``)."""
    if ts.deferred is not None:
        ts.settle()  # before the join (objects.read_pending_lock)
    note(ts, kind, label, ACQUIRE)
    if clock is not None:
        join_into(ts.vc, clock)


class LockInfo:
    """A tracked lock as reports show it."""

    __slots__ = ("serial", "kind", "created_at")
    _serials = itertools.count(1)

    def __init__(self, kind: str, created_at: Stack):
        self.serial = next(self._serials)
        self.kind = kind
        self.created_at = created_at


def hold(ts: ThreadState, lock: LockInfo) -> None:
    ts.held = ts.held + (lock,)


def unhold(ts: ThreadState, lock: LockInfo) -> None:
    held = ts.held
    if lock in held:
        i = len(held) - 1 - held[::-1].index(lock)
        ts.held = held[:i] + held[i + 1:]


class SyncTable:
    """Sync state attached to arbitrary objects by identity, dropped when they die.

    Keyed by ``id(obj)``: the entry goes in the weakref callback, which runs before the
    object's memory (and so its id) can be reused.  Objects that cannot be weakly
    referenced are kept alive by the table (the annotation API documents this).

    No lock: every change is one dict operation, atomic with or without the GIL, so a
    signal handler or a finalizer that makes a primitive in the middle of another one's
    creation, or a forked child whose parent was creating one, finds the table whole.

    Without the GIL the dict has a lock of its own, and CPython 3.13 may hand it to a
    thread waiting for it just as another thread forks: in the child that thread does not
    exist, and the dict stays locked for good.  So a forked child gets a copy first, read
    without the lock by the compiled core (the pure-Python core iterates it, which takes
    the lock only when the dict is contended): ``forks.settle()`` makes it before any other
    reset, and every method settles before it touches the dict, since a weakref callback
    (``_drop``) can run inside ``os.fork()`` itself, as the child clears the parent's other
    threads.  The parent's dict is kept: nothing dies (and calls back) while the child
    resets.
    """

    # A class attribute: a weakref callback may run while the interpreter shuts down,
    # after the module's globals are cleared.
    _settle = staticmethod(forks.settle)

    def __init__(self, factory=None):
        # SyncVar looked up when called: with the compiled core it is rebound below.
        self._factory = factory if factory is not None else (lambda: SyncVar())
        self._entries: dict[int, tuple[object, object]] = {}
        self._parents: list[dict] = []   # in a forked child: the parent's dicts, kept
        # The tables live as long as racewatch's modules: the hook keeps them no longer.
        forks.at_fork_in_child(self._copy_in_child, first=True)

    def _copy_in_child(self) -> None:
        parent = self._entries
        self._parents.append(parent)
        if _copy_dict_in_child is not None:
            self._entries = _copy_dict_in_child(parent)
        else:
            self._entries = {key: entry for key, entry in parent.items()}

    def _holder(self, obj, key: int):
        # One shared callback with the key on the reference (weakref.KeyedRef, as in
        # WeakValueDictionary): no closure per entry.
        try:
            return weakref.KeyedRef(obj, self._drop, key)
        except TypeError:
            return obj

    def _drop(self, ref) -> None:
        self._settle()
        self._entries.pop(ref.key, None)

    def get(self, obj):
        """The state for ``obj``, or None if it has none."""
        self._settle()
        entry = self._entries.get(id(obj))
        return entry[1] if entry is not None else None

    def setdefault(self, obj):
        """The state for ``obj``, made on first use."""
        self._settle()
        key = id(obj)
        entry = self._entries.get(key)
        if entry is not None:
            return entry[1]
        # Made before it is known to be needed; a loser's reference dies unused, and a
        # weakref that dies before its referent never calls back.
        entry = self._entries.setdefault(key, (self._holder(obj, key), self._factory()))
        return entry[1]

    def set(self, obj, value) -> None:
        self._settle()
        key = id(obj)
        self._entries[key] = (self._holder(obj, key), value)

    def pop(self, obj, default=None):
        self._settle()
        entry = self._entries.pop(id(obj), None)
        return entry[1] if entry is not None else default


if COMPILED is not None:
    # The same operations in C (racewatch/_core/sync.c): a lock's edge costs a few hundred
    # nanoseconds there, against about 1.7 us here.
    SyncVar = COMPILED.SyncVar
    note, acquire, acquire_clock = COMPILED.note, COMPILED.acquire, COMPILED.acquire_clock
    acquire_lock = COMPILED.acquire_lock
    release_store, release_join = COMPILED.release_store, COMPILED.release_join
    snapshot, hold, unhold = COMPILED.snapshot, COMPILED.hold, COMPILED.unhold

stacks.leave_out_frames_of(globals())
